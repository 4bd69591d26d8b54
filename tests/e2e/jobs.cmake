# Background jobs that undo tag changes (2.x): the run waits for them, checks and makes the changes again (issue #12).
ia_e2e_tool_test(test_e2e_jobs)
add_test(NAME e2e.jobs COMMAND test_e2e_jobs)
set_tests_properties(e2e.jobs PROPERTIES LABELS e2e TIMEOUT 300)
