add_executable(test_snapshot ${CMAKE_CURRENT_LIST_DIR}/test_snapshot.c)
target_link_libraries(test_snapshot ia_snapshot ia_test_canned
                      Threads::Threads PkgConfig::CMOCKA)
add_test(NAME unit.snapshot COMMAND test_snapshot)
set_tests_properties(unit.snapshot PROPERTIES LABELS unit)
