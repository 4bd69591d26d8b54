# Album memberships remembered between runs: what a second run reads.
ia_e2e_tool_test(test_e2e_cache)
add_test(NAME e2e.cache COMMAND test_e2e_cache)
set_tests_properties(e2e.cache PROPERTIES LABELS e2e TIMEOUT 300)
