# report.html in headless Chromium: no console message, figures equal to
# metrics.json and the journal, a phone-width screenshot kept as
# build/report-html.png; `report` writes it again, `history` lists the
# run.  Exits 77 (skipped) without chromium.
add_executable(test_e2e_report ${CMAKE_CURRENT_LIST_DIR}/test_e2e_report.c)
target_link_libraries(test_e2e_report ia_test_sim ia_core PkgConfig::JANSSON
                      PkgConfig::CMOCKA)
target_compile_definitions(test_e2e_report PRIVATE
                           IA_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data"
                           IA_BUILD_DIR="${CMAKE_BINARY_DIR}"
                           IA_BIN="$<TARGET_FILE:immich-autotag>")
add_dependencies(test_e2e_report immich-autotag)
add_test(NAME e2e.report_html COMMAND test_e2e_report)
set_tests_properties(e2e.report_html PROPERTIES LABELS e2e TIMEOUT 300
                     SKIP_RETURN_CODE 77)
