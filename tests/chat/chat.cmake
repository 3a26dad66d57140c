# Chat format: pocket's render_chat vs Google's Gemma 4 chat template, byte for byte. The template is
# rendered by llama.cpp's own Jinja engine (node-llama-cpp's native AddonJinjaRenderer) and read from
# the llama.cpp source inside the npm package; it is never stored in this repository.
# Run with `ctest -L chat`. Needs node (>= 20), git, and tests/oracle/node_modules (`npm ci` there
# with NODE_LLAMA_CPP_SKIP_DOWNLOAD=true, as scripts/install_test_tools.sh does).

add_executable(pocket_chat_check ${CMAKE_SOURCE_DIR}/tests/chat/chat_check.cpp)
target_compile_options(pocket_chat_check PRIVATE ${POCKET_WARNINGS})
target_link_libraries(pocket_chat_check PRIVATE pocket_core)
if(TARGET pocket_tests)
  add_dependencies(pocket_tests pocket_chat_check)  # built along with the unit tests
endif()

find_program(POCKET_NODE_EXECUTABLE NAMES node nodejs)
if(NOT POCKET_NODE_EXECUTABLE)
  message(STATUS "chat template tests: disabled (node not found)")
  return()
endif()
if(NOT EXISTS ${CMAKE_SOURCE_DIR}/tests/oracle/node_modules/node-llama-cpp)
  message(STATUS "chat template tests: disabled (run `npm ci` in tests/oracle)")
  return()
endif()

set(_chat_dir ${CMAKE_SOURCE_DIR}/tests/chat)
set(_chat_out ${CMAKE_BINARY_DIR}/chat-reference)
add_test(NAME chat.template.render
         COMMAND ${POCKET_NODE_EXECUTABLE} ${_chat_dir}/render_reference.mjs --cases ${_chat_dir}/conversations.json
                 --out ${_chat_out}/reference.json --cache ${_chat_out})
set_tests_properties(chat.template.render PROPERTIES LABELS chat TIMEOUT 300 SKIP_RETURN_CODE 77
                     FIXTURES_SETUP chat.reference)
add_test(NAME chat.template.render_chat_identical
         COMMAND pocket_chat_check ${_chat_dir}/conversations.json ${_chat_out}/reference.json)
set_tests_properties(chat.template.render_chat_identical PROPERTIES LABELS chat TIMEOUT 60
                     FIXTURES_REQUIRED chat.reference)
