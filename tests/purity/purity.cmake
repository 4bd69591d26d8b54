# The layers as the build enforces them (docs/style.md section 1,
# docs/DEVELOPING.md): rules and plan see only the headers of the modules
# they link, so a rule or a plan file that includes an http, api or state
# header does not compile; and the rules library calls nothing that reads
# or changes process-wide state (environment, TZ, clock, files).
#
# Each probe is an object library (not built by default) compiled with
# exactly the include flags its library's own sources get (it links the
# library).  check/layers.cmake builds them at test time: the control
# probes (the library's own header) must compile, the others must fail on
# the missing header.
set(IA_PURITY_PROBES "")
foreach(lib rules plan)
  foreach(hdr ${lib}/${lib}.h http/http_engine.h api/api.h state/state.h)
    string(REGEX REPLACE "[/.]" "_" name "purity_${lib}_${hdr}")
    add_library(${name} OBJECT EXCLUDE_FROM_ALL
                ${CMAKE_CURRENT_LIST_DIR}/probe.c)
    target_link_libraries(${name} PRIVATE ia_${lib})
    target_compile_definitions(${name} PRIVATE PROBE_HEADER="${hdr}")
    if(hdr STREQUAL "${lib}/${lib}.h")
      list(APPEND IA_PURITY_PROBES "ok:${name}:${hdr}")
    else()
      list(APPEND IA_PURITY_PROBES "refused:${name}:${hdr}")
    endif()
  endforeach()
endforeach()
string(REPLACE ";" "," IA_PURITY_PROBES_ARG "${IA_PURITY_PROBES}")
add_test(NAME purity.layers
         COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${CMAKE_BINARY_DIR}
                 -DPROBES=${IA_PURITY_PROBES_ARG}
                 -P ${CMAKE_CURRENT_LIST_DIR}/check/layers.cmake)
set_tests_properties(purity.layers PROPERTIES LABELS purity RUN_SERIAL TRUE)

# What the rules library's objects call from outside: nothing that reads
# the environment or the clock, changes TZ, or opens a file (the zone is
# read by the configuration loader, core/tzif.h); and what they hold: no
# writable global (.data, .bss), so an evaluation leaves nothing behind.
add_test(NAME purity.rules_symbols
         COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM} -DOBJDUMP=${CMAKE_OBJDUMP}
                 -DLIB=$<TARGET_FILE:ia_rules>
                 -P ${CMAKE_CURRENT_LIST_DIR}/check/symbols.cmake)
set_tests_properties(purity.rules_symbols PROPERTIES LABELS purity)
