# cmake -DNM=nm -DOBJDUMP=objdump -DLIB=libia_rules.a -P check/symbols.cmake
# Fails when the library's objects call a function that reads or changes
# process-wide state (the environment and TZ, the clock, files) or define
# a writable global (a symbol in .data or .bss; read-only tables live in
# .rodata and .data.rel.ro).
set(banned setenv unsetenv putenv getenv secure_getenv tzset localtime
    localtime_r mktime timegm time clock_gettime gettimeofday fopen open
    openat read access stat tzif_load tz_offset_at fs_read_file)
execute_process(COMMAND ${NM} -u ${LIB} RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} -u ${LIB}: ${err}")
endif()
if(NOT out MATCHES " U ")
  message(FATAL_ERROR "${NM} listed no undefined symbol in ${LIB}")
endif()
set(found "")
foreach(sym ${banned})
  if(out MATCHES "U ${sym}(@[^\n]*)?\n")
    list(APPEND found ${sym})
  endif()
endforeach()
if(found)
  message(FATAL_ERROR "${LIB} calls ${found}")
endif()

execute_process(COMMAND ${OBJDUMP} -t ${LIB} RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\\.text")
  message(FATAL_ERROR "${OBJDUMP} -t ${LIB}: ${err}")
endif()
string(REGEX MATCHALL "[^\n]* O \\.(data|bss)[ \t][^\n]*" globals "${out}")
if(globals)
  string(REPLACE ";" "\n" globals "${globals}")
  message(FATAL_ERROR "${LIB} holds writable globals:\n${globals}")
endif()
