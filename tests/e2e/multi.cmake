# A server shared by several users: per-user memory, albums others fill, moves that fail halfway (issue #11).
ia_e2e_tool_test(test_e2e_multi)
add_test(NAME e2e.multi COMMAND test_e2e_multi)
set_tests_properties(e2e.multi PROPERTIES LABELS e2e TIMEOUT 300)
