# What a run did, why, and taking it back (issue #16): undo (end state as
# before the run but for later changes, undo of undo), explain, the HTML
# report and history.
add_executable(test_e2e_ui ${CMAKE_CURRENT_LIST_DIR}/test_e2e_ui.c)
target_link_libraries(test_e2e_ui ia_test_sim ia_core PkgConfig::JANSSON
                      PkgConfig::CMOCKA)
target_compile_definitions(test_e2e_ui PRIVATE
                           IA_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data"
                           IA_BIN="$<TARGET_FILE:immich-autotag>")
add_dependencies(test_e2e_ui immich-autotag)
add_test(NAME e2e.ui COMMAND test_e2e_ui)
set_tests_properties(e2e.ui PROPERTIES LABELS e2e TIMEOUT 300)
