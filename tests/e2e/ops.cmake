# Operating the tool: a small descriptor limit, a server that accepts and
# never answers (stall timeout, SIGTERM during the wait), --loop reading
# its configuration again at every iteration.
ia_e2e_tool_test(test_e2e_ops)
add_test(NAME e2e.ops COMMAND test_e2e_ops)
set_tests_properties(e2e.ops PROPERTIES LABELS e2e TIMEOUT 300)
