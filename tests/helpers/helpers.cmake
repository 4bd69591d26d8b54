# ia_test_sim: starts immich-sim for tests (tests/helpers/sim_harness.h).
add_library(ia_test_sim STATIC ${CMAKE_CURRENT_LIST_DIR}/sim_harness.c
            ${CMAKE_CURRENT_LIST_DIR}/e2e_state.c)
target_include_directories(ia_test_sim PUBLIC ${CMAKE_CURRENT_LIST_DIR}
                           ${CMAKE_SOURCE_DIR}/tests)
target_link_libraries(ia_test_sim PUBLIC ia_core PkgConfig::CURL
                      PkgConfig::JANSSON PkgConfig::CMOCKA)
target_compile_definitions(ia_test_sim PRIVATE
                           IMMICH_SIM_PATH="$<TARGET_FILE:immich-sim>")
add_dependencies(ia_test_sim immich-sim)
