if(TARGET ia_plan)
  add_executable(test_apply ${CMAKE_CURRENT_LIST_DIR}/test_apply.c)
  # ia_snapshot: the permissions `check` lists must be what apply needs;
  # ia_test_canned: a server for the writer's album creates
  target_link_libraries(test_apply ia_apply ia_snapshot ia_test_canned
                        PkgConfig::CMOCKA)
  target_compile_definitions(test_apply PRIVATE
                             IA_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data")
  add_test(NAME unit.apply COMMAND test_apply)
  set_tests_properties(unit.apply PROPERTIES LABELS unit)
endif()
