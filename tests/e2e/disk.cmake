# A run and its disk: a full tmpfs refuses before the first write (skipped,
# exit 77, where mount(2) is refused); a killed run keeps its journal.
add_executable(test_e2e_disk ${CMAKE_CURRENT_LIST_DIR}/test_e2e_disk.c)
target_link_libraries(test_e2e_disk ia_test_sim ia_core PkgConfig::JANSSON
                      PkgConfig::CMOCKA)
target_compile_definitions(test_e2e_disk PRIVATE
                           IA_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data"
                           IA_BIN="$<TARGET_FILE:immich-autotag>")
add_dependencies(test_e2e_disk immich-autotag)
add_test(NAME e2e.disk.full COMMAND test_e2e_disk full)
add_test(NAME e2e.disk.journal COMMAND test_e2e_disk journal)
set_tests_properties(e2e.disk.full e2e.disk.journal PROPERTIES LABELS e2e
                     TIMEOUT 180 SKIP_RETURN_CODE 77)
