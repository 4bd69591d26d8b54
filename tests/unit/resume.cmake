add_executable(test_resume ${CMAKE_CURRENT_LIST_DIR}/test_resume.c)
target_link_libraries(test_resume ia_resume PkgConfig::CMOCKA)
add_test(NAME unit.resume COMMAND test_resume)
set_tests_properties(unit.resume PROPERTIES LABELS unit)
