# Differential tests against Debian's python3 (never a pyenv or venv one):
# Python `re` patterns through pyre (src/config/pyre.c) on a table of
# constructs and generated patterns, and ws_lower() (src/rules/rules_ws.c)
# against str.lower() on every code point.  Each test is a driver program
# and the script in tests/pyre/ that runs it and compares.
find_program(IA_DEBIAN_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH)

function(ia_python_diff name lib)
  add_executable(${name}_driver ${CMAKE_SOURCE_DIR}/tests/pyre/${name}_driver.c)
  target_link_libraries(${name}_driver ${lib} PkgConfig::JANSSON)
  if(IA_DEBIAN_PYTHON3)
    add_test(NAME unit.${name}_diff
             COMMAND ${IA_DEBIAN_PYTHON3}
                     ${CMAKE_SOURCE_DIR}/tests/pyre/${name}_diff.py
                     $<TARGET_FILE:${name}_driver>)
    set_tests_properties(unit.${name}_diff PROPERTIES LABELS unit TIMEOUT 300)
  endif()
endfunction()

ia_python_diff(pyre ia_config)
ia_python_diff(lower ia_rules)
