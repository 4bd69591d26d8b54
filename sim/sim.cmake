# immich-sim: the Immich-compatible test server (docs/simulator.md).
file(GLOB IA_SIM_SOURCES ${CMAKE_CURRENT_LIST_DIR}/*.c)
add_executable(immich-sim ${IA_SIM_SOURCES})
target_include_directories(immich-sim PRIVATE ${CMAKE_SOURCE_DIR})
target_link_libraries(immich-sim PRIVATE ia_core PkgConfig::MHD
                      PkgConfig::JANSSON PkgConfig::ZLIB Threads::Threads m)
set_target_properties(immich-sim PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                      ${CMAKE_BINARY_DIR}/sim)
