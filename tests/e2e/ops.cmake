# Operating the tool: a small descriptor limit, a server that accepts and
# never answers (stall timeout, SIGTERM during the wait), --loop reading
# its configuration again at every iteration.
add_executable(test_e2e_ops ${CMAKE_CURRENT_LIST_DIR}/test_e2e_ops.c)
target_link_libraries(test_e2e_ops ia_test_sim ia_core PkgConfig::CMOCKA)
target_compile_definitions(test_e2e_ops PRIVATE
                           IA_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data"
                           IA_BIN="$<TARGET_FILE:immich-autotag>")
add_dependencies(test_e2e_ops immich-autotag)
add_test(NAME e2e.ops COMMAND test_e2e_ops)
set_tests_properties(e2e.ops PROPERTIES LABELS e2e TIMEOUT 300)
