add_executable(test_report_html ${CMAKE_CURRENT_LIST_DIR}/test_report_html.c)
target_link_libraries(test_report_html ia_report PkgConfig::CMOCKA)
add_test(NAME unit.report_html COMMAND test_report_html)
set_tests_properties(unit.report_html PROPERTIES LABELS unit)
