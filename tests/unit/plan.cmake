add_executable(test_plan ${CMAKE_CURRENT_LIST_DIR}/test_plan.c)
target_link_libraries(test_plan ia_plan PkgConfig::CMOCKA)
add_test(NAME unit.plan COMMAND test_plan)
set_tests_properties(unit.plan PROPERTIES LABELS unit)
