# The run modes end to end: plan/dry-run/apply, second run, SIGTERM and
# re-run, a refused write, the API key in no output or file.
add_executable(test_e2e_modes ${CMAKE_CURRENT_LIST_DIR}/test_e2e_modes.c)
target_link_libraries(test_e2e_modes ia_test_sim ia_core PkgConfig::JANSSON
                      PkgConfig::CMOCKA)
target_compile_definitions(test_e2e_modes PRIVATE
                           IA_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data"
                           IA_BIN="$<TARGET_FILE:immich-autotag>")
add_dependencies(test_e2e_modes immich-autotag)
add_test(NAME e2e.modes COMMAND test_e2e_modes)
set_tests_properties(e2e.modes PROPERTIES LABELS e2e TIMEOUT 300)
