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
