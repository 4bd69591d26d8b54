# A server shared by several users: per-user memory, albums others fill, moves that fail halfway (issue #11).
add_executable(test_e2e_multi ${CMAKE_CURRENT_LIST_DIR}/test_e2e_multi.c)
target_link_libraries(test_e2e_multi ia_test_sim ia_core PkgConfig::JANSSON
                      PkgConfig::CMOCKA)
target_compile_definitions(test_e2e_multi PRIVATE
                           IA_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data"
                           IA_BIN="$<TARGET_FILE:immich-autotag>")
add_dependencies(test_e2e_multi immich-autotag)
add_test(NAME e2e.multi COMMAND test_e2e_multi)
set_tests_properties(e2e.multi PROPERTIES LABELS e2e TIMEOUT 300)
