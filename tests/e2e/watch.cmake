# run --watch (issue #18): an upload classified by the next poll, an idle
# poll of two requests (five on 2.x), SIGTERM while watching, a failed
# poll that writes nothing, --watch with --loop refused; on both server
# lines, changes to albums shared with the caller and to hidden assets
# seen by the next poll.
ia_e2e_tool_test(test_e2e_watch)
add_test(NAME e2e.watch COMMAND test_e2e_watch)
set_tests_properties(e2e.watch PROPERTIES LABELS e2e TIMEOUT 600)
