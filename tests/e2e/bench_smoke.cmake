# The benchmark's smoke version: bench/bench.py smoke on the small library
# (latency off) produces every figure; request counts as stated in
# tests/e2e/bench_smoke.py.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME e2e.bench_smoke
           COMMAND ${Python3_EXECUTABLE}
                   ${CMAKE_CURRENT_LIST_DIR}/bench_smoke.py
                   --build ${CMAKE_BINARY_DIR} --cold 89 --warm 17)
  set_tests_properties(e2e.bench_smoke PROPERTIES LABELS e2e TIMEOUT 300)
endif()
