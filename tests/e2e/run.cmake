# The tool's runs against immich-sim, checked on the simulator's state:
# every feature's end state (template and one feature at a time), second
# run, SIGTERM and re-run, refused writes and weaker keys, plan/apply and
# stale plans, the API key in no byte written, read faults.
add_executable(test_e2e_run ${CMAKE_CURRENT_LIST_DIR}/test_e2e_run.c)
target_link_libraries(test_e2e_run ia_test_sim ia_core PkgConfig::JANSSON
                      PkgConfig::CMOCKA)
target_compile_definitions(test_e2e_run PRIVATE
                           IA_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data"
                           IA_BIN="$<TARGET_FILE:immich-autotag>")
add_dependencies(test_e2e_run immich-autotag)
add_test(NAME e2e.run COMMAND test_e2e_run)
set_tests_properties(e2e.run PROPERTIES LABELS e2e TIMEOUT 300)
