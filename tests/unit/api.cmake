add_executable(test_api ${CMAKE_CURRENT_LIST_DIR}/test_api.c)
target_link_libraries(test_api ia_api ia_test_canned Threads::Threads
                      PkgConfig::CMOCKA)
add_test(NAME unit.api COMMAND test_api)
set_tests_properties(unit.api PROPERTIES LABELS unit)
