# `pocket convert` / `pocket quantize` tests (label `convert`; `ctest -L convert`). Include from the
# top-level CMakeLists.txt (needs the pocket target).
#  - pocket_convert_tests (GoogleTest): config.json parsing, name mapping, llama-quantize's type rules,
#    the converter's metadata/tensor order on a small checkpoint built in the test, and bad input (one
#    clear error, no output file).
#  - e2e.sh: HF checkpoints exported from tiny synthetic models of each variant, converted back and
#    checked tensor by tensor against llama.cpp's own encoders (libggml from node-llama-cpp), then
#    llama.cpp's logits on the converted / quantized file against pocket's, and (numpy_ref) a numpy forward
#    pass written from the spec (tests/reference/gemma4_text_ref.py) on the original safetensors against
#    both, so checkpoint, pocket and llama.cpp agree; `pocket quantize` output for
#    every type compared byte for byte with llama.cpp's llama_model_quantize (libllama).
#  - mmproj_roundtrip.sh: `convert --mmproj-out` on checkpoints exported from synthetic mmprojs of every
#    variant: the tensors round-trip, the towers on the converted file match the torch references.
#  - inspect.sh: `pocket inspect --json` against the GGUF header and data section of synthetic files.
#  - vs_llama_converter.sh (optional, -DPOCKET_LLAMA_CPP_SOURCE=DIR): byte for byte against llama.cpp's
#    convert_hf_to_gguf.py.

set(_cv_dir ${CMAKE_CURRENT_LIST_DIR})

add_executable(pocket_export_hf ${_cv_dir}/export_hf.cpp)
target_compile_options(pocket_export_hf PRIVATE ${POCKET_WARNINGS})
target_link_libraries(pocket_export_hf PRIVATE pocket_core)

add_executable(pocket_convert_check ${_cv_dir}/convert_check.cpp)
target_compile_options(pocket_convert_check PRIVATE ${POCKET_WARNINGS})
target_link_libraries(pocket_convert_check PRIVATE pocket_core ${CMAKE_DL_LIBS})

add_executable(pocket_mmproj_check ${_cv_dir}/mmproj_check.cpp)
target_compile_options(pocket_mmproj_check PRIVATE ${POCKET_WARNINGS})
target_link_libraries(pocket_mmproj_check PRIVATE pocket_core)

add_executable(pocket_convert_tests ${_cv_dir}/convert_test.cpp ${_cv_dir}/convert_bad_input_test.cpp
                                    ${_cv_dir}/mmproj_test.cpp)
target_compile_options(pocket_convert_tests PRIVATE ${POCKET_WARNINGS})
target_link_libraries(pocket_convert_tests PRIVATE pocket_core GTest::gtest GTest::gtest_main)
gtest_discover_tests(pocket_convert_tests TEST_PREFIX convert.unit. DISCOVERY_TIMEOUT 60 PROPERTIES LABELS convert)

add_test(NAME convert.cli.bad_input_one_line_error_no_output
         COMMAND bash ${_cv_dir}/bad_input.sh $<TARGET_FILE:pocket> $<TARGET_FILE:pocket_export_hf>
                 ${CMAKE_BINARY_DIR}/convert-cache/bad-input)
set_tests_properties(convert.cli.bad_input_one_line_error_no_output PROPERTIES LABELS convert TIMEOUT 120)

add_test(NAME convert.cli.mmproj_bad_input_one_line_error_no_output
         COMMAND bash ${_cv_dir}/mmproj_bad_input.sh $<TARGET_FILE:pocket> $<TARGET_FILE:pocket_export_hf>
                 ${CMAKE_BINARY_DIR}/convert-cache/mmproj-bad-input)
set_tests_properties(convert.cli.mmproj_bad_input_one_line_error_no_output PROPERTIES LABELS convert TIMEOUT 120)

# `pocket convert --mmproj-out` round trips (mmproj_roundtrip.sh): synth-mmproj → HF checkpoint →
# converted mmproj, tensor by tensor against the original (bit for bit where the checkpoint holds the
# exact values), and pocket's towers on the converted file against the torch references
# (tests/reference/*_tower_ref.py) on the original. Cases: VARIANT MMPROJ_TYPE EXPORT_DTYPE OUTTYPE
# WEIGHT_TOL TOWER_TOL; the bf16 checkpoint rounds the f32 original's weights (≤ 2^-8 relative).
execute_process(COMMAND /usr/bin/python3 -c "import torch, numpy" RESULT_VARIABLE _cv_torch_rc OUTPUT_QUIET ERROR_QUIET)
if(_cv_torch_rc EQUAL 0)
  foreach(case_what IN ITEMS
      "e2b f32 f32 f32 0 1e-4|e2b_vision_audio_f32.weights_bit_exact.towers_vs_torch_reference_max_abs_1e-4"
      "e4b f16 f32 f16 0 5e-3|e4b_vision_audio_f16.weights_bit_exact.towers_vs_torch_reference_max_abs_5e-3"
      "26b-a4b q8_0 f32 q8_0 0 0.1|26b_vision_q8_0.weights_bit_exact.tower_vs_torch_reference_max_abs_0.1"
      "31b f32 bf16 auto 4e-3 0.1|31b_vision_bf16_checkpoint.weights_max_abs_4e-3.tower_vs_torch_reference_max_abs_0.1"
      "12b f32 f32 f32 0 1e-4|12b_unified_embedders_f32.weights_bit_exact.vs_reference_max_abs_1e-4")
    string(REPLACE "|" ";" parts "${case_what}")
    list(GET parts 0 args)
    list(GET parts 1 what)
    string(REPLACE " " ";" args "${args}")
    list(GET args 0 variant)
    add_test(NAME convert.mmproj.${what}
             COMMAND bash ${_cv_dir}/mmproj_roundtrip.sh $<TARGET_FILE:pocket> $<TARGET_FILE:pocket_export_hf>
                     $<TARGET_FILE:pocket_mmproj_check> /usr/bin/python3
                     ${CMAKE_BINARY_DIR}/convert-cache/mmproj-${variant} ${args})
    set_tests_properties(convert.mmproj.${what} PROPERTIES LABELS convert TIMEOUT 300)
  endforeach()
else()
  message(STATUS "convert: /usr/bin/python3 lacks torch/numpy; mmproj round-trip tests disabled")
endif()
# Real-size E2B towers (1.9 GB checkpoint, removed afterwards): bit exact, and streamed.
add_test(NAME convert.mmproj.e2b_full_size_f16.weights_bit_exact.peak_rss_le_400MB
         COMMAND bash ${_cv_dir}/mmproj_full.sh $<TARGET_FILE:pocket> $<TARGET_FILE:pocket_export_hf>
                 $<TARGET_FILE:pocket_mmproj_check> ${CMAKE_BINARY_DIR}/convert-cache/mmproj-full 400)
set_tests_properties(convert.mmproj.e2b_full_size_f16.weights_bit_exact.peak_rss_le_400MB PROPERTIES LABELS convert
                     TIMEOUT 600)

add_test(NAME convert.cli.imatrix_bad_input_one_line_error_no_output
         COMMAND bash ${_cv_dir}/imatrix_bad_input.sh $<TARGET_FILE:pocket> ${CMAKE_BINARY_DIR}/convert-cache/imatrix-bad-input)
set_tests_properties(convert.cli.imatrix_bad_input_one_line_error_no_output PROPERTIES LABELS convert TIMEOUT 120)

# `pocket imatrix` values against the numpy reference forward (tests/reference/imatrix_ref.py).
execute_process(COMMAND /usr/bin/python3 -c "import numpy" RESULT_VARIABLE _cv_numpy_rc OUTPUT_QUIET ERROR_QUIET)
if(_cv_numpy_rc EQUAL 0)
  foreach(variant IN ITEMS e2b e4b 12b 26b-a4b 31b)
    add_test(NAME convert.imatrix.${variant}_vs_numpy_reference.counts_exact.in_sum2_rel_1e-4
             COMMAND bash ${_cv_dir}/imatrix_ref.sh $<TARGET_FILE:pocket> $<TARGET_FILE:pocket_export_hf> /usr/bin/python3
                     ${CMAKE_BINARY_DIR}/convert-cache/imatrix-ref-${variant} ${variant} 1e-4)
    set_tests_properties(convert.imatrix.${variant}_vs_numpy_reference.counts_exact.in_sum2_rel_1e-4 PROPERTIES
                         LABELS convert TIMEOUT 120)
  endforeach()
  # A 1024-token context: each chunk runs as two 512-token batches over the KV cache.
  add_test(NAME convert.imatrix.26b-a4b_ctx_1024_vs_numpy_reference.counts_exact.in_sum2_rel_1e-4
           COMMAND bash ${_cv_dir}/imatrix_ref.sh $<TARGET_FILE:pocket> $<TARGET_FILE:pocket_export_hf> /usr/bin/python3
                   ${CMAKE_BINARY_DIR}/convert-cache/imatrix-ref-26b-a4b-1024 26b-a4b 1e-4 1024)
  set_tests_properties(convert.imatrix.26b-a4b_ctx_1024_vs_numpy_reference.counts_exact.in_sum2_rel_1e-4 PROPERTIES
                       LABELS convert TIMEOUT 180)
endif()

add_test(NAME convert.cli.inspect_json_matches_gguf_header_and_bytes_exactly
         COMMAND bash ${_cv_dir}/inspect.sh $<TARGET_FILE:pocket> ${CMAKE_BINARY_DIR}/convert-cache/inspect)
set_tests_properties(convert.cli.inspect_json_matches_gguf_header_and_bytes_exactly PROPERTIES LABELS convert TIMEOUT 120)

# Byte-for-byte comparison with llama.cpp's own convert_hf_to_gguf.py, when a llama.cpp checkout is given
# (-DPOCKET_LLAMA_CPP_SOURCE=DIR) and a Python with torch, numpy and pyyaml is found (Debian: python3-torch
# python3-numpy python3-yaml python3-tqdm).
set(POCKET_LLAMA_CPP_SOURCE "" CACHE PATH "llama.cpp checkout for the convert_hf_to_gguf.py comparison test")
if(POCKET_LLAMA_CPP_SOURCE AND EXISTS ${POCKET_LLAMA_CPP_SOURCE}/convert_hf_to_gguf.py)
  set(_cv_python "")
  foreach(py IN ITEMS ${POCKET_CONVERT_PYTHON} /usr/bin/python3 python3)
    execute_process(COMMAND ${py} -c "import torch, numpy, yaml" RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
    if(rc EQUAL 0)
      set(_cv_python ${py})
      break()
    endif()
  endforeach()
  if(_cv_python)
    add_test(NAME convert.vs_llama_cpp_converter.every_variant_and_outtype_byte_identical.mmproj_per_dim_scale_le_1_ulp
             COMMAND bash ${_cv_dir}/vs_llama_converter.sh $<TARGET_FILE:pocket> $<TARGET_FILE:pocket_export_hf>
                     ${POCKET_LLAMA_CPP_SOURCE} ${CMAKE_BINARY_DIR}/convert-cache/vs-llama ${_cv_python})
    set_tests_properties(convert.vs_llama_cpp_converter.every_variant_and_outtype_byte_identical.mmproj_per_dim_scale_le_1_ulp PROPERTIES
                         LABELS convert TIMEOUT 600)
  else()
    message(STATUS "convert: no Python with torch/numpy/yaml; llama.cpp converter comparison disabled")
  endif()
endif()

find_program(POCKET_NODE_EXECUTABLE NAMES node nodejs)
set(_cv_oracle ${CMAKE_SOURCE_DIR}/tests/oracle)
if(NOT POCKET_NODE_EXECUTABLE OR NOT EXISTS ${_cv_oracle}/node_modules/node-llama-cpp)
  message(STATUS "convert end-to-end tests: disabled (node-llama-cpp not installed)")
  return()
endif()

# Cases: see e2e.sh. Names state what is checked.
foreach(case_what IN ITEMS
    "convert.e2b|ple_kv_shared_double_wide.tensors_exact.logits_max_abs_le_2e-2.numpy_ref_vs_pocket_max_abs_le_2e-4_vs_llama_max_abs_le_2e-2"
    "convert.e4b|ple_kv_shared.tensors_exact.logits_max_abs_le_2e-2.numpy_ref_vs_pocket_max_abs_le_2e-4_vs_llama_max_abs_le_2e-2"
    "convert.26b|moe_causal_per_layer_config.tensors_exact.logits_mean_abs_le_3e-3.numpy_ref_vs_pocket_max_abs_le_2e-4_vs_llama_mean_abs_le_3e-3.q4_k_m_identical_to_llama_quantize"
    "convert.31b|k_eq_v_bf16_checkpoint_3_shards.tensors_exact.bf16_logits_max_abs_le_3e-2_or_llama_floor.f32_logits_max_abs_le_2e-2.numpy_ref_vs_pocket_max_abs_le_2e-4_vs_llama_max_abs_le_2e-2"
    "convert.12b_real_vocab|unified_real_tokenizer.tensors_and_vocab_exact.logits_max_abs_le_2e-2.numpy_ref_vs_pocket_max_abs_le_2e-4_vs_llama_max_abs_le_2e-2"
    "convert.e2b_q8_0|converter_q8_0.tensors_exact"
    "quantize.e2b_q8_0|bit_exact_vs_libggml.logits_mean_abs_le_0.1_argmax_ge_95pct_or_llama_floor"
    "quantize.e2b_q4_k_m|bit_exact_vs_libggml.logits_mean_abs_le_0.1_argmax_ge_95pct_or_llama_floor"
    "quantize.e2b|all_types_byte_identical_to_llama_model_quantize"
    "quantize.12b|all_types_byte_identical_to_llama_model_quantize"
    "quantize.26b-a4b|all_types_byte_identical_to_llama_model_quantize"
    "quantize.31b|all_types_byte_identical_to_llama_model_quantize"
    "imatrix.e2b|pocket_imatrix_file_loads_in_llama_cpp.quantize_all_types_byte_identical_to_llama_model_quantize"
    "imatrix.26b-a4b|per_expert_rows.quantize_all_types_byte_identical_to_llama_model_quantize"
    "imatrix.31b|quantize_all_types_byte_identical_to_llama_model_quantize")
  string(REPLACE "|" ";" parts "${case_what}")
  list(GET parts 0 case)
  list(GET parts 1 what)
  add_test(NAME ${case}.${what} COMMAND bash ${_cv_dir}/e2e.sh ${case})
  set_tests_properties(${case}.${what} PROPERTIES LABELS convert TIMEOUT 300
    ENVIRONMENT "POCKET=$<TARGET_FILE:pocket>;EXPORT_HF=$<TARGET_FILE:pocket_export_hf>;CHECK=$<TARGET_FILE:pocket_convert_check>;NODE=${POCKET_NODE_EXECUTABLE};ORACLE_DIR=${_cv_oracle};CACHE=${CMAKE_BINARY_DIR}/convert-cache")
endforeach()

# MTP drafter ("assistant") checkpoints → gemma4-assistant GGUF: see assistant.sh.
add_test(NAME convert.assistant.mtp_drafter_tensors_exact.loads_in_llama_cpp_f32_bf16_q8_0_q4_k_m.bad_input_one_line_error_no_output
         COMMAND bash ${_cv_dir}/assistant.sh $<TARGET_FILE:pocket> $<TARGET_FILE:pocket_export_hf>
                 ${POCKET_NODE_EXECUTABLE} ${_cv_oracle} ${CMAKE_BINARY_DIR}/convert-cache/assistant)
set_tests_properties(convert.assistant.mtp_drafter_tensors_exact.loads_in_llama_cpp_f32_bf16_q8_0_q4_k_m.bad_input_one_line_error_no_output
                     PROPERTIES LABELS convert TIMEOUT 300)
