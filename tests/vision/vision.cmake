# Vision tests (label `vision`): image preprocessing against the Python reference written from the spec
# (tests/reference/), run with Debian's /usr/bin/python3 (numpy, torch, PIL from python3-pil).
find_program(POCKET_SYSTEM_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT POCKET_SYSTEM_PYTHON)
  message(STATUS "vision tests: disabled (/usr/bin/python3 not found)")
  return()
endif()
set(_vision_dir ${CMAKE_SOURCE_DIR}/tests/vision)
set(_vision_work ${CMAKE_BINARY_DIR}/vision-cache)

# The reference's own resampler equals PIL bit for bit and torch's float antialiased bicubic within 1 LSB.
add_test(NAME vision.preprocess.reference_self_check_pil_bit_exact
         COMMAND ${POCKET_SYSTEM_PYTHON} ${CMAKE_SOURCE_DIR}/tests/reference/vision_preprocess_ref.py --self-check)
set_tests_properties(vision.preprocess.reference_self_check_pil_bit_exact PROPERTIES LABELS vision TIMEOUT 120)

# pocket's pixel tensors (both HF backends, all budgets, tiny/extreme/real-photo inputs) vs the reference.
add_test(NAME vision.preprocess.pixel_tensor_matches_hf_reference_max_abs_1e-6
         COMMAND ${POCKET_SYSTEM_PYTHON} ${_vision_dir}/preprocess_parity.py --pocket $<TARGET_FILE:pocket>
                 --work ${_vision_work}/preprocess --photos ${CMAKE_SOURCE_DIR}/tests/media/node_modules)
set_tests_properties(vision.preprocess.pixel_tensor_matches_hf_reference_max_abs_1e-6 PROPERTIES LABELS vision
                     TIMEOUT 600)
