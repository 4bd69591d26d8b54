# The CLI test drives the built binary, so it needs immich-autotag too.
add_executable(test_cli ${CMAKE_CURRENT_LIST_DIR}/test_cli.c)
target_link_libraries(test_cli ia_cli ia_test_sim PkgConfig::CMOCKA)
target_compile_definitions(test_cli PRIVATE
                           IA_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data"
                           IA_BIN="$<TARGET_FILE:immich-autotag>")
add_dependencies(test_cli immich-autotag)
add_test(NAME unit.cli COMMAND test_cli)
set_tests_properties(unit.cli PROPERTIES LABELS unit)
