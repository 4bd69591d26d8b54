add_executable(test_state ${CMAKE_CURRENT_LIST_DIR}/test_state.c)
target_link_libraries(test_state ia_state PkgConfig::CMOCKA)
add_test(NAME unit.state COMMAND test_state)
set_tests_properties(unit.state PROPERTIES LABELS unit)
