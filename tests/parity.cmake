# End-to-end parity tests: pocket vs llama.cpp (node-llama-cpp's prebuilt CPU build) on synthetic
# tiny Gemma 4 models. Run them with `ctest -L parity`. The bounds are part of the test names.
# Needs node (>= 20) and tests/oracle/node_modules (`npm ci` there with NODE_LLAMA_CPP_SKIP_DOWNLOAD=true).

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
  # F32 / F16 weights: tight bounds, argmax identical at every position.
  foreach(type_bound IN ITEMS "f32;2e-2" "f16;3e-2")
    list(GET type_bound 0 type)
    list(GET type_bound 1 bound)
    _parity_model(${variant} ${type})
    # (An argmax difference is only tolerated where the reference's top two logits are within the bound.)
    _parity_test(parity.${variant}.${type}.prefill.max_abs_le_${bound} ${variant} ${type} prefill
                 --max-abs ${bound} --min-argmax-agree 1 --tie-eps ${bound})
    _parity_test(parity.${variant}.${type}.decode_from_40.max_abs_le_${bound} ${variant} ${type} decode
                 --decode-from 40 --max-abs ${bound} --min-argmax-agree 1 --tie-eps ${bound})
  endforeach()
  # Greedy continuation: 64 tokens, token-identical (up to a near-tie of the reference: top-1 margin < 2e-2).
  _parity_test(parity.${variant}.f32.generate_64.identical ${variant} f32 generate --generate 64 --tie-eps 2e-2)
  # Quantized weights: mean |Δlogit| <= 0.1 and argmax agreement >= 95%.
  foreach(type IN ITEMS q8_0 q4_0 q4_k q6_k)
    _parity_model(${variant} ${type})
    _parity_test(parity.${variant}.${type}.prefill.mean_abs_le_0.1_argmax_ge_95pct ${variant} ${type} prefill
                 --mean-abs 0.1 --min-argmax-agree 0.95)
  endforeach()
endforeach()
