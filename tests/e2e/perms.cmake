# What the API key must hold (exactly the documented permissions; one
# missing: exit 3, nothing written) and saved plans after a rename.
ia_e2e_tool_test(test_e2e_perms)
add_test(NAME e2e.perms COMMAND test_e2e_perms)
set_tests_properties(e2e.perms PROPERTIES LABELS e2e TIMEOUT 300)
