# Audio input tests (label `audio`): decoding, log-mel features and long-audio clips on real recordings
# — the Debian pocketsphinx-testdata LibriVox clips and espeak-ng speech converted with sox into every
# supported container, sample format, rate and channel count — against the numpy reference
# tests/reference/audio_features_ref.py (written from spec §4.2/§4.7) and against sox's decoder.
# Recordings are generated into the build dir by the setup test (fixture audio.recordings).
find_program(POCKET_SOX_EXECUTABLE sox)
find_program(POCKET_ESPEAK_EXECUTABLE espeak-ng)
set(POCKET_SYSTEM_PYTHON /usr/bin/python3)  # Debian's python3 with numpy (python3 on PATH may lack it)
set(_audio_dir ${CMAKE_SOURCE_DIR}/tests/audio)
set(_audio_work ${CMAKE_BINARY_DIR}/audio-cache)
set(_audio_rec ${_audio_work}/recordings)

if(POCKET_SOX_EXECUTABLE AND POCKET_ESPEAK_EXECUTABLE AND EXISTS ${POCKET_SYSTEM_PYTHON}
   AND EXISTS /usr/share/pocketsphinx/test/data/librivox)
  add_test(NAME audio.setup.recordings_librivox_espeak_sox COMMAND bash ${_audio_dir}/make_recordings.sh ${_audio_rec})
  set_tests_properties(audio.setup.recordings_librivox_espeak_sox PROPERTIES LABELS audio TIMEOUT 300
                       FIXTURES_SETUP audio.recordings)

  add_test(NAME audio.features.librivox_clips_match_numpy_reference_max_abs_1e-5
           COMMAND ${POCKET_SYSTEM_PYTHON} ${_audio_dir}/feature_parity.py features --pocket $<TARGET_FILE:pocket>
                   --tolerance 1e-5 --work ${_audio_work}/work-librivox ${_audio_rec}/librivox)
  add_test(NAME audio.features.espeak_every_container_rate_channel_count_match_numpy_reference_max_abs_1e-5
           COMMAND ${POCKET_SYSTEM_PYTHON} ${_audio_dir}/feature_parity.py features --pocket $<TARGET_FILE:pocket>
                   --tolerance 1e-5 --work ${_audio_work}/work-formats ${_audio_rec}/formats)
  add_test(NAME audio.features.long_30s_30.01s_80s_5min_clips_match_numpy_reference_max_abs_1e-5
           COMMAND ${POCKET_SYSTEM_PYTHON} ${_audio_dir}/feature_parity.py features --pocket $<TARGET_FILE:pocket>
                   --tolerance 1e-5 --work ${_audio_work}/work-long ${_audio_rec}/long)
  add_test(NAME audio.decode.matches_sox_lossless_16k_max_abs_1e-7_resampled_or_lossy_2e-4
           COMMAND ${POCKET_SYSTEM_PYTHON} ${_audio_dir}/feature_parity.py decode --pocket $<TARGET_FILE:pocket>
                   --exact-tolerance 1e-7 --resampled-tolerance 2e-4 --work ${_audio_work}/work-decode
                   ${_audio_rec}/librivox ${_audio_rec}/formats)
  set_tests_properties(audio.features.librivox_clips_match_numpy_reference_max_abs_1e-5
                       audio.features.espeak_every_container_rate_channel_count_match_numpy_reference_max_abs_1e-5
                       audio.features.long_30s_30.01s_80s_5min_clips_match_numpy_reference_max_abs_1e-5
                       audio.decode.matches_sox_lossless_16k_max_abs_1e-7_resampled_or_lossy_2e-4
                       PROPERTIES LABELS audio TIMEOUT 300 FIXTURES_REQUIRED audio.recordings)

  # Corrupt, truncated, zero-length, absurd and over-long inputs: one-line errors, never a crash.
  add_test(NAME audio.cli.bad_audio_one_line_errors_no_crash
           COMMAND ${POCKET_SYSTEM_PYTHON} ${_audio_dir}/bad_audio.py $<TARGET_FILE:pocket> ${_audio_work}/bad-input)
  set_tests_properties(audio.cli.bad_audio_one_line_errors_no_crash PROPERTIES LABELS audio TIMEOUT 120)
else()
  message(STATUS "audio tests: disabled (need sox, espeak-ng, /usr/bin/python3 with numpy, pocketsphinx-testdata)")
endif()

# Audio tower (label `audio`): pocket's gemma4a tower against the float64 torch reference written from
# the spec with HF's blocked-attention semantics (tests/reference/audio_tower_ref.py) on synthetic
# random-weight audio mmprojs, and audio in the prompt end to end.
if(EXISTS ${POCKET_SYSTEM_PYTHON} AND EXISTS /usr/share/pocketsphinx/test/data/librivox)
  set(_tower_script ${_audio_dir}/audio_tower_parity.py)
  add_test(NAME audio.tower.tiny_f32_features_1_to_3100_frames_match_torch_reference_max_abs_1e-4
           COMMAND ${POCKET_SYSTEM_PYTHON} ${_tower_script} tower --pocket $<TARGET_FILE:pocket> --type f32
                   --tolerance 1e-4 --work ${_audio_work}/tower-tiny-f32)
  add_test(NAME audio.tower.tiny_f16_features_match_torch_reference_max_abs_1e-2
           COMMAND ${POCKET_SYSTEM_PYTHON} ${_tower_script} tower --pocket $<TARGET_FILE:pocket> --type f16
                   --tolerance 1e-2 --frames 101,3100 --work ${_audio_work}/tower-tiny-f16)
  add_test(NAME audio.tower.full_e2b_f16_matches_torch_reference_max_abs_2e-2
           COMMAND ${POCKET_SYSTEM_PYTHON} ${_tower_script} tower --pocket $<TARGET_FILE:pocket> --type f16
                   --size full --tolerance 2e-2 --frames 301 --work ${_audio_work}/tower-full-f16)
  set_tests_properties(audio.tower.tiny_f32_features_1_to_3100_frames_match_torch_reference_max_abs_1e-4
                       audio.tower.tiny_f16_features_match_torch_reference_max_abs_1e-2
                       audio.tower.full_e2b_f16_matches_torch_reference_max_abs_2e-2
                       PROPERTIES LABELS audio TIMEOUT 600)
  # Real speech through `pocket encode --audio` (decode → features → tower); the reference runs the tower
  # on the features pocket wrote (--preprocessed-out), which have their own parity tests above.
  file(GLOB _librivox_wavs /usr/share/pocketsphinx/test/data/librivox/*.wav)
  add_test(NAME audio.tower.librivox_recordings_pocket_encode_match_torch_reference_max_abs_1e-4
           COMMAND ${POCKET_SYSTEM_PYTHON} ${_tower_script} recording --pocket $<TARGET_FILE:pocket> --type f32
                   --tolerance 1e-4 --work ${_audio_work}/tower-librivox --recordings ${_librivox_wavs})
  # The 12B's encoder-free projection (gemma4ua): pocket encode --audio rows vs RMSNorm(frame)·W^T in
  # numpy on the frames pocket wrote.
  add_test(NAME audio.tower.unified_12b_librivox_projection_matches_reference_max_abs_1e-4
           COMMAND ${POCKET_SYSTEM_PYTHON} ${_tower_script} recording --variant 12b --pocket $<TARGET_FILE:pocket>
                   --type f32 --tolerance 1e-4 --work ${_audio_work}/tower-unified --recordings ${_librivox_wavs})
  set_tests_properties(audio.tower.librivox_recordings_pocket_encode_match_torch_reference_max_abs_1e-4
                       audio.tower.unified_12b_librivox_projection_matches_reference_max_abs_1e-4
                       PROPERTIES LABELS audio TIMEOUT 600)

  # `pocket run --audio` on a LibriVox clip and on ~99 s of speech (4 clips): the prompt is the chat
  # prompt with one <|audio> block per clip, and the logits after the audio equal feeding
  # `pocket encode`'s rows directly; missing --mmproj / no audio tower / unreadable audio: one-line errors.
  add_executable(pocket_audio_e2e_check ${_audio_dir}/audio_e2e_check.cpp)
  target_compile_options(pocket_audio_e2e_check PRIVATE ${POCKET_WARNINGS})
  target_link_libraries(pocket_audio_e2e_check PRIVATE pocket_core)
  list(GET _librivox_wavs 0 _librivox_first)
  add_test(NAME audio.e2e.run_audio_librivox_and_99s_logits_equal_direct_rows_max_abs_1e-6
           COMMAND bash ${_audio_dir}/audio_e2e.sh $<TARGET_FILE:pocket> $<TARGET_FILE:pocket_audio_e2e_check>
                   ${_audio_work}/e2e ${_librivox_first} ${_audio_work}/e2e-long.wav 1e-6)
  add_test(NAME audio.e2e.run_audio_12b_unified_librivox_and_99s_logits_equal_direct_rows_max_abs_1e-6
           COMMAND bash ${_audio_dir}/audio_e2e.sh $<TARGET_FILE:pocket> $<TARGET_FILE:pocket_audio_e2e_check>
                   ${_audio_work}/e2e ${_librivox_first} ${_audio_work}/e2e-long.wav 1e-6 12b)
  set_tests_properties(audio.e2e.run_audio_librivox_and_99s_logits_equal_direct_rows_max_abs_1e-6
                       audio.e2e.run_audio_12b_unified_librivox_and_99s_logits_equal_direct_rows_max_abs_1e-6
                       PROPERTIES LABELS audio TIMEOUT 900 RESOURCE_LOCK audio_e2e_work)
endif()
