# Album memberships remembered between runs: what a second run reads.
add_executable(test_e2e_cache ${CMAKE_CURRENT_LIST_DIR}/test_e2e_cache.c)
target_link_libraries(test_e2e_cache ia_test_sim ia_core PkgConfig::JANSSON
                      PkgConfig::CMOCKA)
target_compile_definitions(test_e2e_cache PRIVATE
                           IA_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data"
                           IA_BIN="$<TARGET_FILE:immich-autotag>")
add_dependencies(test_e2e_cache immich-autotag)
add_test(NAME e2e.cache COMMAND test_e2e_cache)
set_tests_properties(e2e.cache PROPERTIES LABELS e2e TIMEOUT 300)
