# ia_test_sim: starts immich-sim for tests (tests/helpers/sim_harness.h).
add_library(ia_test_sim STATIC ${CMAKE_CURRENT_LIST_DIR}/sim_harness.c
            ${CMAKE_CURRENT_LIST_DIR}/e2e_state.c
            ${CMAKE_CURRENT_LIST_DIR}/e2e_tool.c)
target_include_directories(ia_test_sim PUBLIC ${CMAKE_CURRENT_LIST_DIR}
                           ${CMAKE_SOURCE_DIR}/tests)
target_link_libraries(ia_test_sim PUBLIC ia_core PkgConfig::CURL
                      PkgConfig::JANSSON PkgConfig::CMOCKA)
target_compile_definitions(ia_test_sim PRIVATE
                           IMMICH_SIM_PATH="$<TARGET_FILE:immich-sim>")
add_dependencies(ia_test_sim immich-sim)

# ia_test_apply_mem: the model after a plan, in memory (apply_mem.h), for
# the idempotence tests; test code, so not in the rules library.
add_library(ia_test_apply_mem STATIC ${CMAKE_CURRENT_LIST_DIR}/apply_mem.c)
target_include_directories(ia_test_apply_mem PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(ia_test_apply_mem PUBLIC ia_model ia_plan ia_core)

# ia_test_canned: the unit tests' canned HTTP server (canned_server.h).
add_library(ia_test_canned STATIC ${CMAKE_CURRENT_LIST_DIR}/canned_server.c)
target_include_directories(ia_test_canned PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(ia_test_canned PUBLIC ia_core PkgConfig::MHD
                      PkgConfig::CMOCKA Threads::Threads)
