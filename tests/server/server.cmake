# `pocket serve`: the HTTP server library (Debian's libcpp-httplib-dev, found with pkg-config), the chat
# page embedded into the binary, and the server tests (`ctest -L server`). Include from the top-level
# CMakeLists.txt after the pocket_core and pocket targets exist; when this file is loaded earlier (e.g.
# with -DCMAKE_PROJECT_INCLUDE=.../server.cmake) it defers itself to the end of the top directory.
#
# Tests: each starts `pocket serve --port 0` on 127.0.0.1 with a tiny random-weight E2B model that has the
# real Gemma vocabulary (tests/cli/make_model.sh) and talks to it with node (fetch, and the official
# `openai` npm client pinned in tests/server/package-lock.json); the browser test drives Debian's
# chromium with playwright-core (also pinned there) and keeps screenshots in the build tree. Image and audio
# tests make a tiny random mmproj (`pocket synth-mmproj`) in the build's server-cache when it is missing.
include_guard(GLOBAL)

function(_pocket_server_setup)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(POCKET_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
  target_link_libraries(pocket_core PUBLIC PkgConfig::POCKET_HTTPLIB)
  target_compile_definitions(pocket PRIVATE POCKET_HAVE_SERVER=1)

  # The chat page as a C array (src/server/http_server.cpp includes it); regenerated when it changes.
  set(_page ${CMAKE_SOURCE_DIR}/src/server/web/index.html)
  set(_gen ${CMAKE_BINARY_DIR}/generated/server)
  set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_page})
  file(READ ${_page} _hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," _bytes "${_hex}")
  file(WRITE ${_gen}/pocket_server_page.h.tmp
       "// Generated from src/server/web/index.html by tests/server/server.cmake.\n"
       "static constexpr char kPocketChatPage[] = {${_bytes} 0};\n")
  configure_file(${_gen}/pocket_server_page.h.tmp ${_gen}/pocket_server_page.h COPYONLY)
  target_include_directories(pocket_core PRIVATE ${_gen})

  find_program(POCKET_NODE_EXECUTABLE NAMES node nodejs)
  if(NOT POCKET_NODE_EXECUTABLE)
    message(STATUS "server tests: disabled (node not found)")
    return()
  endif()
  set(_dir ${CMAKE_SOURCE_DIR}/tests/server)
  set(_cache ${CMAKE_BINARY_DIR}/server-cache)
  set(_model ${_cache}/e2b-tiny-f32-gemma-vocab.gguf)
  add_test(NAME server.setup.tiny_model_with_real_vocab
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli/make_model.sh $<TARGET_FILE:pocket> ${_model})
  set_tests_properties(server.setup.tiny_model_with_real_vocab PROPERTIES LABELS server TIMEOUT 600
                       FIXTURES_SETUP server.model RESOURCE_LOCK server.cache)
  file(STRINGS ${_dir}/http_tests.mjs _lines REGEX "^test\\(\"[a-z0-9_]+\"")
  foreach(_line IN LISTS _lines)
    string(REGEX REPLACE "^test\\(\"([a-z0-9_]+)\".*" "\\1" _name "${_line}")
    add_test(NAME server.http.${_name}
             COMMAND ${POCKET_NODE_EXECUTABLE} ${_dir}/http_tests.mjs --pocket $<TARGET_FILE:pocket> --model ${_model}
                     --work ${_cache} --only ${_name})
    set_tests_properties(server.http.${_name} PROPERTIES LABELS server TIMEOUT 300 FIXTURES_REQUIRED server.model)
  endforeach()
  set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_dir}/http_tests.mjs)

  if(EXISTS ${_dir}/node_modules/openai)
    add_test(NAME server.openai_client.chat_stream_tools_json_errors_image_audio
             COMMAND ${POCKET_NODE_EXECUTABLE} ${_dir}/openai_client_test.mjs --pocket $<TARGET_FILE:pocket>
                     --model ${_model} --work ${_cache})
    set_tests_properties(server.openai_client.chat_stream_tools_json_errors_image_audio PROPERTIES LABELS server
                         TIMEOUT 300 FIXTURES_REQUIRED server.model)
  else()
    message(STATUS "server tests: openai client test disabled (run scripts/install_test_tools.sh)")
  endif()
  find_program(POCKET_CHROMIUM_EXECUTABLE NAMES chromium PATHS /usr/bin NO_DEFAULT_PATH)
  if(EXISTS ${_dir}/node_modules/playwright-core AND POCKET_CHROMIUM_EXECUTABLE)
    # Screenshots: chat-page.png (a streamed answer), chat-page-media.png (a photo attached, its answer).
    add_test(NAME server.browser.chat_page_streams_an_answer_and_shows_400_errors
             COMMAND ${POCKET_NODE_EXECUTABLE} ${_dir}/browser_test.mjs --pocket $<TARGET_FILE:pocket> --model ${_model}
                     --chromium ${POCKET_CHROMIUM_EXECUTABLE} --part text --out ${_cache}/chat-page.png)
    add_test(NAME server.browser.chat_page_sends_photo_wav_and_microphone_recording
             COMMAND ${POCKET_NODE_EXECUTABLE} ${_dir}/browser_test.mjs --pocket $<TARGET_FILE:pocket> --model ${_model}
                     --chromium ${POCKET_CHROMIUM_EXECUTABLE} --part media --work ${_cache} --out ${_cache}/chat-page-media.png)
    set_tests_properties(server.browser.chat_page_streams_an_answer_and_shows_400_errors
                         server.browser.chat_page_sends_photo_wav_and_microphone_recording
                         PROPERTIES LABELS server TIMEOUT 300 FIXTURES_REQUIRED server.model)
  else()
    message(STATUS "server tests: browser test disabled (needs chromium and tests/server/node_modules)")
  endif()
endfunction()

if(TARGET pocket_core AND TARGET pocket)
  _pocket_server_setup()
else()
  cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL _pocket_server_setup)
endif()
