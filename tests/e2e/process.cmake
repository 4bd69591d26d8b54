# The process around a run: no core dump can hold the API key; the peak
# memory a run reports is the true one.
add_executable(test_e2e_process ${CMAKE_CURRENT_LIST_DIR}/test_e2e_process.c)
target_link_libraries(test_e2e_process ia_test_sim ia_core PkgConfig::CMOCKA)
target_compile_definitions(test_e2e_process PRIVATE
                           IA_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data"
                           IA_BIN="$<TARGET_FILE:immich-autotag>")
add_dependencies(test_e2e_process immich-autotag)
add_test(NAME e2e.process COMMAND test_e2e_process)
set_tests_properties(e2e.process PROPERTIES LABELS e2e TIMEOUT 120)
