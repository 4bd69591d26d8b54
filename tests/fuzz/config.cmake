# The configuration loader under fuzzing.  Always: a replay of the corpus
# (label fuzz).  With -DFUZZ=ON and clang: the libFuzzer binary
# build-fuzz/tests/fuzz/fuzz_config that scripts/test.sh runs.
add_executable(fuzz_config_replay ${CMAKE_CURRENT_LIST_DIR}/fuzz_config.c
               ${CMAKE_CURRENT_LIST_DIR}/fuzz_replay.c)
target_link_libraries(fuzz_config_replay ia_config)
add_test(NAME fuzz.config.replay
         COMMAND fuzz_config_replay ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/config)
set_tests_properties(fuzz.config.replay PROPERTIES LABELS fuzz)

if(FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  # The loader and core are compiled again inside the fuzz binary with
  # coverage instrumentation; the libraries other targets use stay as they
  # are.
  set(fuzz_config_srcs ${CMAKE_CURRENT_LIST_DIR}/fuzz_config.c)
  foreach(lib ia_config ia_core)
    get_target_property(lib_srcs ${lib} SOURCES)
    get_target_property(lib_dir ${lib} SOURCE_DIR)
    foreach(src ${lib_srcs})
      list(APPEND fuzz_config_srcs ${lib_dir}/${src})
    endforeach()
  endforeach()
  add_executable(fuzz_config ${fuzz_config_srcs})
  target_include_directories(fuzz_config PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(fuzz_config PkgConfig::YAML PkgConfig::PCRE2 unistring m)
  target_compile_options(fuzz_config PRIVATE
                         -fsanitize=fuzzer,address,undefined
                         -Wno-format-nonliteral)
  target_link_options(fuzz_config PRIVATE -fsanitize=fuzzer,address,undefined)
  set_target_properties(fuzz_config PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                        ${CMAKE_BINARY_DIR}/tests/fuzz)
endif()
