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
# One probe: library lib (ia_<lib>, or the named target) compiled with hdr.
function(ia_purity_probe kind lib target hdr)
  string(REGEX REPLACE "[/.]" "_" name "purity_${lib}_${hdr}")
  add_library(${name} OBJECT EXCLUDE_FROM_ALL
              ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/probe.c)
  target_link_libraries(${name} PRIVATE ${target})
  target_compile_definitions(${name} PRIVATE PROBE_HEADER="${hdr}")
  set(IA_PURITY_PROBES ${IA_PURITY_PROBES} "${kind}:${name}:${hdr}"
      PARENT_SCOPE)
endfunction()
foreach(lib rules plan)
  ia_purity_probe(ok ${lib} ia_${lib} ${lib}/${lib}.h)
  foreach(hdr http/http_engine.h api/api.h state/state.h)
    ia_purity_probe(refused ${lib} ia_${lib} ${hdr})
  endforeach()
endforeach()
# Outcomes go one way: the applier produces them (apply/outcome.h), the
# reports read them; the applier never sees a report header, and the
# reports see the outcome table but not the api or http below it.
ia_purity_probe(ok apply ia_apply apply/apply.h)
ia_purity_probe(refused apply ia_apply report/report.h)
ia_purity_probe(ok report ia_report apply/outcome.h)
ia_purity_probe(ok report ia_report report/report.h)
ia_purity_probe(refused report ia_report api/api.h)
ia_purity_probe(refused report ia_report http/http_engine.h)
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
