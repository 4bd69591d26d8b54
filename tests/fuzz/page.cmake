# The search-page decoder under fuzzing: a replay of the corpus always
# (label fuzz), and with -DFUZZ=ON and clang the libFuzzer binary
# build-fuzz/tests/fuzz/fuzz_page that scripts/test.sh runs.
add_executable(fuzz_page_replay ${CMAKE_CURRENT_LIST_DIR}/fuzz_page.c
               ${CMAKE_CURRENT_LIST_DIR}/fuzz_replay.c)
target_link_libraries(fuzz_page_replay ia_api)
add_test(NAME fuzz.page.replay
         COMMAND fuzz_page_replay ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/page)
set_tests_properties(fuzz.page.replay PROPERTIES LABELS fuzz)

if(FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  # The decoder and what it links, compiled again with coverage.
  set(fuzz_page_srcs ${CMAKE_CURRENT_LIST_DIR}/fuzz_page.c)
  foreach(lib ia_api ia_http ia_model ia_core)
    get_target_property(lib_srcs ${lib} SOURCES)
    get_target_property(lib_dir ${lib} SOURCE_DIR)
    foreach(src ${lib_srcs})
      list(APPEND fuzz_page_srcs ${lib_dir}/${src})
    endforeach()
  endforeach()
  add_executable(fuzz_page ${fuzz_page_srcs})
  target_include_directories(fuzz_page PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(fuzz_page PkgConfig::CURL PkgConfig::JANSSON
                        PkgConfig::YAJL m)
  target_compile_options(fuzz_page PRIVATE
                         -fsanitize=fuzzer,address,undefined
                         -Wno-format-nonliteral)
  target_link_options(fuzz_page PRIVATE -fsanitize=fuzzer,address,undefined)
  set_target_properties(fuzz_page PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                        ${CMAKE_BINARY_DIR}/tests/fuzz)
endif()
