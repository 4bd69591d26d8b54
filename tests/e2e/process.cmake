# The process around a run: no core dump can hold the API key; the peak
# memory a run reports is the true one.
ia_e2e_tool_test(test_e2e_process)
add_test(NAME e2e.process COMMAND test_e2e_process)
set_tests_properties(e2e.process PROPERTIES LABELS e2e TIMEOUT 120)
