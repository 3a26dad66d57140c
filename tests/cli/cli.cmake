# End-to-end CLI tests (label `cli`) on a tiny F32 E2B-shaped model with the real Gemma vocabulary:
# a greedy `pocket run` must match llama.cpp token for token, and `pocket chat` is driven through a
# pseudo-terminal (tmux). The vocabulary is fetched by the tokenizer tests' setup fixture.
find_program(POCKET_TMUX_EXECUTABLE tmux)
if(NOT POCKET_NODE_EXECUTABLE OR NOT EXISTS ${CMAKE_SOURCE_DIR}/tests/oracle/node_modules/node-llama-cpp)
  message(STATUS "cli tests: disabled (node-llama-cpp not installed)")
  return()
endif()
set(_cli_dir ${CMAKE_SOURCE_DIR}/tests/cli)
set(_cli_model ${CMAKE_BINARY_DIR}/cli-cache/e2b-tiny-f32-gemma-vocab.gguf)

add_test(NAME cli.setup.tiny_model_with_real_vocab COMMAND bash ${_cli_dir}/make_model.sh $<TARGET_FILE:pocket> ${_cli_model})
set_tests_properties(cli.setup.tiny_model_with_real_vocab PROPERTIES LABELS cli TIMEOUT 600
                     FIXTURES_SETUP cli.model FIXTURES_REQUIRED tokenizer.vocab)

add_test(NAME cli.run.greedy_32_tokens_identical_to_llama_cpp
         COMMAND ${POCKET_NODE_EXECUTABLE} ${_cli_dir}/run_greedy_parity.mjs --pocket $<TARGET_FILE:pocket>
                 --model ${_cli_model} --work ${CMAKE_BINARY_DIR}/cli-cache --n 32)
set_tests_properties(cli.run.greedy_32_tokens_identical_to_llama_cpp PROPERTIES LABELS cli TIMEOUT 300
                     FIXTURES_REQUIRED cli.model)

if(POCKET_TMUX_EXECUTABLE)
  add_test(NAME cli.chat.pty_turns_commands_ctrl_c COMMAND bash ${_cli_dir}/chat_tmux.sh $<TARGET_FILE:pocket> ${_cli_model})
  set_tests_properties(cli.chat.pty_turns_commands_ctrl_c PROPERTIES LABELS cli TIMEOUT 300
                       FIXTURES_REQUIRED cli.model RUN_SERIAL TRUE)
endif()

# The benchmark code stays working (CI runs it on a tiny model only; real figures are in BENCHMARKS.md).
add_test(NAME cli.bench.tiny_model_json_has_required_fields
         COMMAND bash ${_cli_dir}/bench_smoke.sh $<TARGET_FILE:pocket> ${CMAKE_BINARY_DIR}/cli-cache)
set_tests_properties(cli.bench.tiny_model_json_has_required_fields PROPERTIES LABELS cli TIMEOUT 300)

# Bad model files and token lists: one-line errors naming the problem, never a crash.
add_test(NAME cli.logits.bad_input_one_line_errors_no_crash
         COMMAND bash ${_cli_dir}/bad_input.sh $<TARGET_FILE:pocket> ${CMAKE_BINARY_DIR}/cli-cache/bad-input)
set_tests_properties(cli.logits.bad_input_one_line_errors_no_crash PROPERTIES LABELS cli TIMEOUT 300)
