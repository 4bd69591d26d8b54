# Background jobs that undo tag changes (2.x): the run waits for them, checks and makes the changes again (issue #12).
add_executable(test_e2e_jobs ${CMAKE_CURRENT_LIST_DIR}/test_e2e_jobs.c)
target_link_libraries(test_e2e_jobs ia_test_sim ia_core PkgConfig::JANSSON
                      PkgConfig::CMOCKA)
target_compile_definitions(test_e2e_jobs PRIVATE
                           IA_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data"
                           IA_BIN="$<TARGET_FILE:immich-autotag>")
add_dependencies(test_e2e_jobs immich-autotag)
add_test(NAME e2e.jobs COMMAND test_e2e_jobs)
set_tests_properties(e2e.jobs PROPERTIES LABELS e2e TIMEOUT 300)
