add_executable(test_config ${CMAKE_CURRENT_LIST_DIR}/test_config.c)
target_link_libraries(test_config ia_config PkgConfig::CMOCKA)
target_compile_definitions(test_config PRIVATE
                           IA_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data")
add_test(NAME unit.config COMMAND test_config)
set_tests_properties(unit.config PROPERTIES LABELS unit)
