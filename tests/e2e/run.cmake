# The tool's runs against immich-sim, checked on the simulator's state:
# every feature's end state (template and one feature at a time), second
# run, SIGTERM and re-run, refused writes and weaker keys, plan/apply and
# stale plans, the API key in no byte written, read faults.
ia_e2e_tool_test(test_e2e_run)
add_test(NAME e2e.run COMMAND test_e2e_run)
set_tests_properties(e2e.run PROPERTIES LABELS e2e TIMEOUT 300)
