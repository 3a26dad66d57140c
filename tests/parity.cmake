# End-to-end parity tests: pocket vs llama.cpp (node-llama-cpp's prebuilt CPU build) on synthetic
# tiny Gemma 4 models. Run them with `ctest -L parity`. The bounds are part of the test names.
# Needs node (>= 20) and tests/oracle/node_modules (`npm ci` there with NODE_LLAMA_CPP_SKIP_DOWNLOAD=true).
#
# "or_llama_floor": the bound is relaxed to llama.cpp's own noise floor where that is larger, measured
# as the difference between llama.cpp's logits with an F32 and an F16 KV cache. On quantized weights
# (rounding of the activations to Q8_0/Q8_K) and on MoE routing, any tiny difference is amplified to that
# level, so an implementation that is not bit-identical to ggml cannot get closer (see run_parity.mjs).

find_program(POCKET_NODE_EXECUTABLE NAMES node nodejs)
set(_parity_oracle_dir ${CMAKE_SOURCE_DIR}/tests/oracle)
if(NOT POCKET_NODE_EXECUTABLE)
  message(STATUS "parity tests: disabled (node not found)")
  return()
endif()
if(NOT EXISTS ${_parity_oracle_dir}/node_modules/node-llama-cpp)
  message(STATUS "parity tests: disabled (run `npm ci` in tests/oracle)")
  return()
endif()

set(POCKET_PARITY_CACHE ${CMAKE_BINARY_DIR}/parity-cache CACHE PATH "Synthetic models and oracle outputs for the parity tests")
set(_parity_driver ${CMAKE_SOURCE_DIR}/tests/parity/run_parity.mjs)
set(_parity_variants e2b e4b 12b 26b-a4b 31b)

# _parity_test(<name> <variant> <type> <mode> [driver args...])
function(_parity_test name variant type mode)
  add_test(NAME ${name}
           COMMAND ${POCKET_NODE_EXECUTABLE} ${_parity_driver} --pocket $<TARGET_FILE:pocket>
                   --cache ${POCKET_PARITY_CACHE} --variant ${variant} --type ${type} --mode ${mode} ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS parity TIMEOUT 300 FIXTURES_REQUIRED parity.model.${variant}.${type})
endfunction()

# The model file for one variant/type: generated once (a CTest fixture), reused by every check.
function(_parity_model variant type)
  set(name parity.setup.${variant}.${type})
  add_test(NAME ${name}
           COMMAND ${POCKET_NODE_EXECUTABLE} ${_parity_driver} --pocket $<TARGET_FILE:pocket>
                   --cache ${POCKET_PARITY_CACHE} --variant ${variant} --type ${type} --mode synth)
  set_tests_properties(${name} PROPERTIES LABELS parity TIMEOUT 300 FIXTURES_SETUP parity.model.${variant}.${type})
endfunction()

foreach(variant IN LISTS _parity_variants)
  # F32 / F16 weights: tight bounds, argmax identical at every position (a difference is only tolerated
  # where the reference's top two logits are within the bound anyway).
  # MoE: rounding differences flip an expert choice now and then, a discontinuity that makes max|Δ|
  # a lottery; there the bound is on mean|Δ| (relaxed to llama.cpp's floor), max|Δ| is only printed.
  foreach(type_bound IN ITEMS "f32;2e-2;3e-3" "f16;3e-2;5e-3")
    list(GET type_bound 0 type)
    list(GET type_bound 1 bound)
    list(GET type_bound 2 moe_mean)
    _parity_model(${variant} ${type})
    if(variant STREQUAL "26b-a4b")
      set(what mean_abs_le_${moe_mean}_or_llama_floor)
      set(args --mean-abs ${moe_mean} --min-argmax-agree 1 --tie-eps ${bound} --floor-factor 1.5 --floor-tie 3)
    else()
      set(what max_abs_le_${bound})
      set(args --max-abs ${bound} --min-argmax-agree 1 --tie-eps ${bound})
    endif()
    _parity_test(parity.${variant}.${type}.prefill.${what} ${variant} ${type} prefill ${args})
    _parity_test(parity.${variant}.${type}.decode_from_40.${what} ${variant} ${type} decode --decode-from 40 ${args})
  endforeach()
  # Greedy continuation: 64 tokens, token-identical (up to a near-tie of the reference: top-1 margin < 2e-2).
  _parity_test(parity.${variant}.f32.generate_64.identical ${variant} f32 generate --generate 64 --tie-eps 2e-2)
  # Quantized weights: mean |Δlogit| <= 0.1 and argmax agreement >= 95%, or llama.cpp's floor:
  # 1.5 x its own mean|Δ|, and argmax differences tolerated where the reference margin is below 3 x that.
  foreach(type IN ITEMS q8_0 q4_0 q4_k q6_k)
    _parity_model(${variant} ${type})
    _parity_test(parity.${variant}.${type}.prefill.mean_abs_le_0.1_argmax_ge_95pct_or_llama_floor ${variant} ${type}
                 prefill --mean-abs 0.1 --min-argmax-agree 0.95 --floor-factor 1.5 --floor-tie 3)
  endforeach()
endforeach()
