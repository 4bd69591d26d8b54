# report.html in headless Chromium: no console message, figures equal to
# metrics.json and the journal, a phone-width screenshot kept as
# build/report-html.png; `report` writes it again, `history` lists the
# run.  Exits 77 (skipped) without chromium.
ia_e2e_tool_test(test_e2e_report)
target_compile_definitions(test_e2e_report PRIVATE
                           IA_BUILD_DIR="${CMAKE_BINARY_DIR}")
add_test(NAME e2e.report_html COMMAND test_e2e_report)
set_tests_properties(e2e.report_html PROPERTIES LABELS e2e TIMEOUT 300
                     SKIP_RETURN_CODE 77)
