# What a run did, why, and taking it back (issue #16): undo (end state as
# before the run but for later changes, undo of undo), explain, the HTML
# report and history.
ia_e2e_tool_test(test_e2e_ui)
add_test(NAME e2e.ui COMMAND test_e2e_ui)
set_tests_properties(e2e.ui PROPERTIES LABELS e2e TIMEOUT 300)
