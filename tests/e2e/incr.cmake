# The incremental nightly read: every kind of change is seen, both lines.
ia_e2e_tool_test(test_e2e_incr)
target_link_libraries(test_e2e_incr PkgConfig::SQLITE)
add_test(NAME e2e.incr COMMAND test_e2e_incr)
set_tests_properties(e2e.incr PROPERTIES LABELS e2e TIMEOUT 300)
