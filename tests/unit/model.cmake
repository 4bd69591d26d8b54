add_executable(test_model ${CMAKE_CURRENT_LIST_DIR}/test_model.c)
target_link_libraries(test_model ia_model PkgConfig::CMOCKA)
add_test(NAME unit.model COMMAND test_model)
set_tests_properties(unit.model PROPERTIES LABELS unit)
