# The snapshot against immich-sim: equal to its state in both dialects,
# exact request counts, faults retried or failing closed.
add_executable(test_e2e_read ${CMAKE_CURRENT_LIST_DIR}/test_e2e_read.c)
target_link_libraries(test_e2e_read ia_snapshot ia_test_sim
                      PkgConfig::JANSSON PkgConfig::CMOCKA)
add_test(NAME e2e.read COMMAND test_e2e_read)
set_tests_properties(e2e.read PROPERTIES LABELS e2e TIMEOUT 300)
