add_executable(test_progress ${CMAKE_CURRENT_LIST_DIR}/test_progress.c)
target_link_libraries(test_progress ia_cli PkgConfig::CMOCKA)
add_test(NAME unit.progress COMMAND test_progress)
set_tests_properties(unit.progress PROPERTIES LABELS unit)
