add_executable(test_remember ${CMAKE_CURRENT_LIST_DIR}/test_remember.c)
target_link_libraries(test_remember ia_remember PkgConfig::CMOCKA)
add_test(NAME unit.remember COMMAND test_remember)
set_tests_properties(unit.remember PROPERTIES LABELS unit)
