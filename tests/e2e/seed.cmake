# The upstream template on the seed library: the changes it was built to
# need (rules issue #5's acceptance test).
add_executable(test_e2e_seed ${CMAKE_CURRENT_LIST_DIR}/test_e2e_seed.c)
target_link_libraries(test_e2e_seed ia_snapshot ia_rules ia_config
                      ia_test_sim ia_test_apply_mem PkgConfig::JANSSON
                      PkgConfig::CMOCKA)
target_compile_definitions(test_e2e_seed PRIVATE
                           IA_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data")
add_test(NAME e2e.seed COMMAND test_e2e_seed)
set_tests_properties(e2e.seed PROPERTIES LABELS e2e TIMEOUT 300)
