# End-to-end scenarios as data: one test per directory of tests/scenarios
# (docs/DEVELOPING.md, "End-to-end scenarios"), run by test_scenario.  A
# new case is a new folder; CONFIGURE_DEPENDS makes the build see it.
ia_e2e_tool_test(test_scenario)
file(GLOB IA_SCENARIOS LIST_DIRECTORIES true CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/tests/scenarios/*)
foreach(dir ${IA_SCENARIOS})
  if(IS_DIRECTORY ${dir})
    get_filename_component(name ${dir} NAME)
    add_test(NAME scenario.${name} COMMAND test_scenario ${dir})
    set_tests_properties(scenario.${name} PROPERTIES LABELS "e2e;scenario"
                         TIMEOUT 300)
  endif()
endforeach()
# The driver itself: a scenario whose expectation is wrong fails naming
# the line, and so does a directory that cannot be read (the pass
# condition is the failure message, not merely a non-zero exit).
add_test(NAME scenario.driver_wrong_expectation
         COMMAND test_scenario ${CMAKE_CURRENT_LIST_DIR}/scenario-wrong)
set_tests_properties(scenario.driver_wrong_expectation PROPERTIES
  LABELS "e2e;scenario" TIMEOUT 300
  PASS_REGULAR_EXPRESSION "expect:[0-9]+: tag meme: meme_0.jpg meme_1.jpg\n    got 'meme_0.jpg meme_1.jpg meme_2.jpg'.*expect:[0-9]+: requests PUT /albums/{id}/assets = 0\n    counted [1-9]")
add_test(NAME scenario.driver_unreadable_directory
         COMMAND test_scenario ${CMAKE_CURRENT_LIST_DIR}/no-such-scenario)
set_tests_properties(scenario.driver_unreadable_directory PROPERTIES
  LABELS "e2e;scenario" TIMEOUT 60
  PASS_REGULAR_EXPRESSION "cannot read scenario directory '[^']*/no-such-scenario'")
