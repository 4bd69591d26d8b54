# Generated multi-user libraries, runs in random order with injected write faults: invariants after each run, convergence (issue #11).
ia_e2e_tool_test(test_e2e_multiprop)
add_test(NAME e2e.multiprop COMMAND test_e2e_multiprop)
set_tests_properties(e2e.multiprop PROPERTIES LABELS e2e TIMEOUT 300)
