# A library planted with the cases where the configuration means something
# else to the Python tool (issue #17), run in both dialects; the end state
# is what docs/migrating.md promises.
add_executable(test_e2e_python ${CMAKE_CURRENT_LIST_DIR}/test_e2e_python.c)
target_link_libraries(test_e2e_python ia_test_sim ia_core PkgConfig::JANSSON
                      PkgConfig::CMOCKA)
target_compile_definitions(test_e2e_python PRIVATE
                           IA_BIN="$<TARGET_FILE:immich-autotag>")
add_dependencies(test_e2e_python immich-autotag)
add_test(NAME e2e.python COMMAND test_e2e_python)
set_tests_properties(e2e.python PROPERTIES LABELS e2e TIMEOUT 300)
