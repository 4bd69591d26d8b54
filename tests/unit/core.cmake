add_executable(test_core ${CMAKE_CURRENT_LIST_DIR}/test_core.c)
target_link_libraries(test_core ia_core PkgConfig::CMOCKA)
add_test(NAME unit.core COMMAND test_core)
set_tests_properties(unit.core PROPERTIES LABELS unit)
