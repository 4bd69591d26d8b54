# Generated multi-user libraries, runs in random order with injected write faults: invariants after each run, convergence (issue #11).
add_executable(test_e2e_multiprop ${CMAKE_CURRENT_LIST_DIR}/test_e2e_multiprop.c)
target_link_libraries(test_e2e_multiprop ia_test_sim ia_core PkgConfig::JANSSON
                      PkgConfig::CMOCKA)
target_compile_definitions(test_e2e_multiprop PRIVATE
                           IA_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data"
                           IA_BIN="$<TARGET_FILE:immich-autotag>")
add_dependencies(test_e2e_multiprop immich-autotag)
add_test(NAME e2e.multiprop COMMAND test_e2e_multiprop)
set_tests_properties(e2e.multiprop PROPERTIES LABELS e2e TIMEOUT 300)
