add_executable(test_http ${CMAKE_CURRENT_LIST_DIR}/test_http.c)
target_link_libraries(test_http ia_http ia_test_canned ia_test_sim
                      Threads::Threads
                      PkgConfig::CMOCKA)
add_test(NAME unit.http COMMAND test_http)
set_tests_properties(unit.http PROPERTIES LABELS unit)
