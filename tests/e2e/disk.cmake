# A run and its disk: a full tmpfs refuses before the first write (skipped,
# exit 77, where mount(2) is refused); a killed run keeps its journal.
ia_e2e_tool_test(test_e2e_disk)
add_test(NAME e2e.disk.full COMMAND test_e2e_disk full)
add_test(NAME e2e.disk.journal COMMAND test_e2e_disk journal)
set_tests_properties(e2e.disk.full e2e.disk.journal PROPERTIES LABELS e2e
                     TIMEOUT 180 SKIP_RETURN_CODE 77)
