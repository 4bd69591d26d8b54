# References in the tree resolve: every docs/<name>.md that code, tests,
# scripts or docs name exists, nothing points to a sibling of the
# repository, and every section of docs/upstream-behavior.md that a
# comment cites ("§4.3", "§8 item 12", "§8.12") is there.  sim/ and
# docs/simulator.md are left to the simulator's owner for now.
add_test(NAME docs.references
         COMMAND ${CMAKE_COMMAND} -DROOT=${CMAKE_SOURCE_DIR}
                 -P ${CMAKE_CURRENT_LIST_DIR}/check/references.cmake)
set_tests_properties(docs.references PROPERTIES LABELS docs)
