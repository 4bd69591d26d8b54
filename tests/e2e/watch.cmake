# run --watch (issue #18): an upload classified by the next poll, an idle
# poll of two requests (five on 2.x), SIGTERM while watching, a failed
# poll that writes nothing, --watch with --loop refused; on both server
# lines, changes to albums shared with the caller and to hidden assets
# seen by the next poll.
add_executable(test_e2e_watch ${CMAKE_CURRENT_LIST_DIR}/test_e2e_watch.c)
target_link_libraries(test_e2e_watch ia_test_sim ia_core PkgConfig::JANSSON
                      PkgConfig::CMOCKA)
target_compile_definitions(test_e2e_watch PRIVATE
                           IA_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data"
                           IA_BIN="$<TARGET_FILE:immich-autotag>")
add_dependencies(test_e2e_watch immich-autotag)
add_test(NAME e2e.watch COMMAND test_e2e_watch)
set_tests_properties(e2e.watch PROPERTIES LABELS e2e TIMEOUT 600)
