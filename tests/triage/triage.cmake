# `pocket triage` tests (ctest -L triage). This file provides the test inbox and the input/report checks;
# the end-to-end pipeline tests (labels, resume after kill -9, apply/merge, benchmark) are added below
# by the pipeline's owner, using the fixtures and variables defined here:
#   fixture triage.inbox     → ${POCKET_TRIAGE_INBOX} (≈40 mixed files) + ${POCKET_TRIAGE_MANIFEST}
#                              (JSON: file name → expected kind/format)
#   fixture triage.inbox200  → ${POCKET_TRIAGE_INBOX_200} (200 files, for the files-per-minute benchmark)
# Inbox sources: SpamAssassin/Moby-Dick/State of the Union from tests/tokenizer/node_modules and photos
# from tests/media/node_modules (npm, scripts/install_test_tools.sh), LibriVox clips from Debian
# pocketsphinx-testdata; missing sources are skipped (the manifest lists what was made).

set(_triage_dir ${CMAKE_CURRENT_LIST_DIR})
set(_triage_work ${CMAKE_BINARY_DIR}/triage)
set(POCKET_TRIAGE_INBOX ${_triage_work}/inbox)
set(POCKET_TRIAGE_MANIFEST ${_triage_work}/inbox.manifest.json)
set(POCKET_TRIAGE_INBOX_200 ${_triage_work}/inbox200)

add_executable(pocket_triage_make_inbox ${_triage_dir}/make_inbox.cpp)
target_compile_options(pocket_triage_make_inbox PRIVATE ${POCKET_WARNINGS})
target_include_directories(pocket_triage_make_inbox SYSTEM PRIVATE ${POCKET_STB_INCLUDE_DIR})
target_link_libraries(pocket_triage_make_inbox PRIVATE pocket_core)
add_executable(pocket_triage_extract_check ${_triage_dir}/extract_check.cpp)
target_compile_options(pocket_triage_extract_check PRIVATE ${POCKET_WARNINGS})
target_link_libraries(pocket_triage_extract_check PRIVATE pocket_core)

set(_triage_sources --stdlib ${CMAKE_SOURCE_DIR}/tests/tokenizer/node_modules/@stdlib
                    --photos ${CMAKE_SOURCE_DIR}/tests/media/node_modules/@stdlib
                    --librivox /usr/share/pocketsphinx/test/data/librivox)
add_test(NAME triage.inbox.build_mixed_inbox_from_public_domain_data
         COMMAND pocket_triage_make_inbox --out ${POCKET_TRIAGE_INBOX} --manifest ${POCKET_TRIAGE_MANIFEST} ${_triage_sources})
set_tests_properties(triage.inbox.build_mixed_inbox_from_public_domain_data PROPERTIES
                     LABELS triage TIMEOUT 120 FIXTURES_SETUP triage.inbox RESOURCE_LOCK triage.inbox)
add_test(NAME triage.inbox.build_200_file_benchmark_inbox
         COMMAND pocket_triage_make_inbox --out ${POCKET_TRIAGE_INBOX_200} --manifest ${_triage_work}/inbox200.manifest.json
                 --count 200 ${_triage_sources})
set_tests_properties(triage.inbox.build_200_file_benchmark_inbox PROPERTIES
                     LABELS triage TIMEOUT 300 FIXTURES_SETUP triage.inbox200 RESOURCE_LOCK triage.inbox200)

# Every file gets a kind or a reason; kinds/formats as expected; text non-empty valid UTF-8; the PDF
# page cap holds; the attachments of the referral mail are listed. Also writes the HTML report.
add_test(NAME triage.extract.every_inbox_file_has_expected_kind_text_or_reason
         COMMAND pocket_triage_extract_check --inbox ${POCKET_TRIAGE_INBOX} --manifest ${POCKET_TRIAGE_MANIFEST}
                 --html ${_triage_work}/extract-report.html --records ${_triage_work}/extract-records.jsonl)
set_tests_properties(triage.extract.every_inbox_file_has_expected_kind_text_or_reason PROPERTIES
                     LABELS triage TIMEOUT 120 FIXTURES_REQUIRED triage.inbox FIXTURES_SETUP triage.report
                     RESOURCE_LOCK triage.inbox)
add_test(NAME triage.extract.benchmark_inbox_200_files_all_accounted
         COMMAND pocket_triage_extract_check --inbox ${POCKET_TRIAGE_INBOX_200} --manifest ${_triage_work}/inbox200.manifest.json)
set_tests_properties(triage.extract.benchmark_inbox_200_files_all_accounted PROPERTIES
                     LABELS triage TIMEOUT 300 FIXTURES_REQUIRED triage.inbox200 RESOURCE_LOCK triage.inbox200)

# The offline sandbox (seccomp) and the unit tests of this area, under this label too.
add_test(NAME triage.sandbox.connect_fails_after_forbid_network_unix_sockets_work
         COMMAND pocket_tests --gtest_filter=TriageSandbox.*)
add_test(NAME triage.unit.extract_and_report COMMAND pocket_tests --gtest_filter=TriageText.*:TriageExtract.*:TriageReport*)
set_tests_properties(triage.sandbox.connect_fails_after_forbid_network_unix_sockets_work triage.unit.extract_and_report
                     PROPERTIES LABELS triage TIMEOUT 120)

# The HTML report in headless Chromium (playwright-core from tests/server/node_modules).
find_program(POCKET_NODE_EXECUTABLE NAMES node nodejs)
find_program(POCKET_CHROMIUM NAMES chromium chromium-browser)
if(POCKET_NODE_EXECUTABLE AND POCKET_CHROMIUM AND EXISTS ${CMAKE_SOURCE_DIR}/tests/server/node_modules/playwright-core)
  add_test(NAME triage.report.html_in_chromium_one_row_per_record_label_filter_previews_offline
           COMMAND ${POCKET_NODE_EXECUTABLE} ${_triage_dir}/report_browser_test.mjs --html ${_triage_work}/extract-report.html
                   --records ${_triage_work}/extract-records.jsonl --chromium ${POCKET_CHROMIUM}
                   --out ${_triage_work}/extract-report.png)
  set_tests_properties(triage.report.html_in_chromium_one_row_per_record_label_filter_previews_offline PROPERTIES
                       LABELS triage TIMEOUT 180 FIXTURES_REQUIRED triage.report)
else()
  message(STATUS "triage tests: browser report test disabled (needs node, chromium and tests/server/node_modules)")
endif()

# The pipeline end to end (owner: triage pipeline): a tiny random E2B with the real vocabulary and a tiny
# synthetic mmproj with both towers; kill -9 at random points of --jobs 3 runs + reruns, records identical
# to a --jobs 1 run (exact, timings aside), --jobs 0/1000 refused, every file accounted for,
# schema-valid fields, originals unchanged, apply --copy, changed file redone, shards + merge.
set(_triage_model ${_triage_work}/e2b-tiny-f32-gemma-vocab.gguf)
set(_triage_mmproj ${_triage_work}/mmproj-e2b-tiny.gguf)
add_test(NAME triage.pipeline.setup_tiny_model_and_mmproj
         COMMAND bash -c "bash ${CMAKE_SOURCE_DIR}/tests/cli/make_model.sh $<TARGET_FILE:pocket> ${_triage_model} && ([ -s ${_triage_mmproj} ] || $<TARGET_FILE:pocket> synth-mmproj --variant e2b --size tiny --audio -q -o ${_triage_mmproj})")
set_tests_properties(triage.pipeline.setup_tiny_model_and_mmproj PROPERTIES LABELS triage TIMEOUT 600
                     FIXTURES_SETUP triage.model FIXTURES_REQUIRED tokenizer.vocab)
add_test(NAME triage.pipeline.kill9_x3_jobs3_rerun_records_identical_to_jobs1_all_files_one_record_originals_unchanged_apply_shards
         COMMAND bash ${_triage_dir}/pipeline_e2e.sh $<TARGET_FILE:pocket> ${_triage_model} ${_triage_mmproj}
                 ${POCKET_TRIAGE_INBOX} ${_triage_work}/pipeline ${_triage_dir}/labels.yaml)
set_tests_properties(triage.pipeline.kill9_x3_jobs3_rerun_records_identical_to_jobs1_all_files_one_record_originals_unchanged_apply_shards
                     PROPERTIES LABELS triage TIMEOUT 1500 FIXTURES_REQUIRED "triage.model;triage.inbox"
                     RESOURCE_LOCK triage.inbox)
add_test(NAME triage.unit.labels_records_shards_confidence
         COMMAND pocket_tests --gtest_filter=TriageLabels.*:TriageHashing.*:TriageShard.*:TriageRecordStore.*:TriageInbox.*:TriageCsv.*:TriageReportActions.*:TriageScoring.*:TriageQueue.*:TriageClassifier.*)
set_tests_properties(triage.unit.labels_records_shards_confidence PROPERTIES LABELS triage TIMEOUT 120)
