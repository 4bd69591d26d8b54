# The configuration loader under fuzzing: a replay of the corpus always,
# the libFuzzer binary with -DFUZZ=ON and clang (tests/CMakeLists.txt,
# ia_fuzz_target).
ia_fuzz_target(config LIBS ia_config ia_core
               LINK PkgConfig::YAML PkgConfig::PCRE2 unistring m)
