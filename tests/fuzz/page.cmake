# The search-page decoder under fuzzing: a replay of the corpus always,
# the libFuzzer binary with -DFUZZ=ON and clang (tests/CMakeLists.txt,
# ia_fuzz_target).
ia_fuzz_target(page LIBS ia_api ia_http ia_model ia_core
               LINK PkgConfig::CURL PkgConfig::JANSSON PkgConfig::YAJL m)
