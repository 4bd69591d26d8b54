# immich-sim: server, dialects, generator, capacity and faults (through
# the test harness; every test starts its own simulator on 127.0.0.1).
add_executable(test_sim ${CMAKE_CURRENT_LIST_DIR}/test_sim.c)
target_link_libraries(test_sim ia_test_sim ia_core PkgConfig::CURL
                      PkgConfig::JANSSON PkgConfig::CMOCKA Threads::Threads)
add_test(NAME unit.sim COMMAND test_sim)
set_tests_properties(unit.sim PROPERTIES LABELS unit TIMEOUT 300)
