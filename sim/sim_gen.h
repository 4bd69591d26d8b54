/*
 * sim_gen.h: deterministic library generator.
 *
 * Presets: "small" (about 300 assets, 40 albums), "seed" (26,562 assets,
 * 3,377 albums, the profiled library docs/simulator.md describes) and "1m"
 * (1,000,000 assets, 20,000 albums).  The same seed gives the same
 * library, byte for byte in its dump.  docs/simulator.md describes how the
 * starting state is built and which figures land in lib->expect.
 */
#ifndef IA_SIM_GEN_H
#define IA_SIM_GEN_H

#include "sim/sim_store.h"

/* The default key of the first user when --api-key is not given. */
#define SIM_DEFAULT_KEY "immich-sim-admin-key"

/*
 * Fills an initialised, empty lib.  api_key (may be NULL) is the first
 * user's key.  coverage appends the categories that give folder-album
 * detection and date correction work (after everything else, so the rest
 * of the library is the same).  Returns 0, or -1 with err for an unknown
 * preset.
 */
int sim_gen_preset(struct sim_lib *lib, const char *preset, uint64_t seed,
                   const char *api_key, bool coverage, struct buf *err);

/* EU summer time offset of Europe/Madrid at instant ms, in minutes. */
int sim_madrid_offset_min(int64_t ms);

#endif
