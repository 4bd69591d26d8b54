# Python `re` patterns through pyre (src/config/pyre.c): a differential
# test against Debian's python3 on a table of constructs and generated
# patterns (tests/pyre/pyre_diff.py drives tests/pyre/pyre_driver.c).
add_executable(pyre_driver ${CMAKE_SOURCE_DIR}/tests/pyre/pyre_driver.c)
target_link_libraries(pyre_driver ia_config PkgConfig::JANSSON)
find_program(IA_DEBIAN_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(IA_DEBIAN_PYTHON3)
  add_test(NAME unit.pyre_diff
           COMMAND ${IA_DEBIAN_PYTHON3}
                   ${CMAKE_SOURCE_DIR}/tests/pyre/pyre_diff.py
                   $<TARGET_FILE:pyre_driver>)
  set_tests_properties(unit.pyre_diff PROPERTIES LABELS unit TIMEOUT 300)
endif()
