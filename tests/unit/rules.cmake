add_executable(test_rules ${CMAKE_CURRENT_LIST_DIR}/test_rules.c)
target_link_libraries(test_rules ia_rules PkgConfig::CMOCKA)
add_test(NAME unit.rules COMMAND test_rules)
set_tests_properties(unit.rules PROPERTIES LABELS unit)

add_executable(test_rules_prop ${CMAKE_CURRENT_LIST_DIR}/test_rules_prop.c)
target_link_libraries(test_rules_prop ia_rules ia_test_apply_mem
                      PkgConfig::CMOCKA)
add_test(NAME unit.rules_prop COMMAND test_rules_prop)
set_tests_properties(unit.rules_prop PROPERTIES LABELS unit)

add_executable(test_rules_incr ${CMAKE_CURRENT_LIST_DIR}/test_rules_incr.c)
target_link_libraries(test_rules_incr ia_rules ia_test_apply_mem
                      PkgConfig::CMOCKA)
add_test(NAME unit.rules_incr COMMAND test_rules_incr)
set_tests_properties(unit.rules_incr PROPERTIES LABELS unit)
