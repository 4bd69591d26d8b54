# What the API key must hold (exactly the documented permissions; one
# missing: exit 3, nothing written) and saved plans after a rename.
add_executable(test_e2e_perms ${CMAKE_CURRENT_LIST_DIR}/test_e2e_perms.c)
target_link_libraries(test_e2e_perms ia_test_sim ia_core PkgConfig::JANSSON
                      PkgConfig::CMOCKA)
target_compile_definitions(test_e2e_perms PRIVATE
                           IA_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data"
                           IA_BIN="$<TARGET_FILE:immich-autotag>")
add_dependencies(test_e2e_perms immich-autotag)
add_test(NAME e2e.perms COMMAND test_e2e_perms)
set_tests_properties(e2e.perms PROPERTIES LABELS e2e TIMEOUT 300)
