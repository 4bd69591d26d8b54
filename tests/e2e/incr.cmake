# The incremental nightly read: every kind of change is seen, both lines.
add_executable(test_e2e_incr ${CMAKE_CURRENT_LIST_DIR}/test_e2e_incr.c)
target_link_libraries(test_e2e_incr ia_test_sim ia_core PkgConfig::JANSSON
                      PkgConfig::SQLITE
                      PkgConfig::CMOCKA)
target_compile_definitions(test_e2e_incr PRIVATE
                           IA_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data"
                           IA_BIN="$<TARGET_FILE:immich-autotag>")
add_dependencies(test_e2e_incr immich-autotag)
add_test(NAME e2e.incr COMMAND test_e2e_incr)
set_tests_properties(e2e.incr PROPERTIES LABELS e2e TIMEOUT 300)
