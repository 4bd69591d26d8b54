# Date-range splitting of big passes, forced on a small library: the
# snapshot must be the same as when read by offset.
add_executable(test_e2e_split ${CMAKE_CURRENT_LIST_DIR}/test_e2e_split.c)
target_link_libraries(test_e2e_split ia_snapshot ia_test_sim
                      PkgConfig::CMOCKA)
add_test(NAME e2e.split COMMAND test_e2e_split)
set_tests_properties(e2e.split PROPERTIES LABELS e2e TIMEOUT 300)
