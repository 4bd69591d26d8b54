# cmake -DNM=nm -DLIB=libia_rules.a -P check/symbols.cmake
# Fails when the library's objects call a function that reads or changes
# process-wide state: the environment and TZ, the clock, files.
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
