#!/usr/bin/env python3
"""The benchmark's smoke check (CTest e2e.bench_smoke): `bench.py smoke` on
the small library produces every figure, and the request counts are the
ones this library and the upstream template give (deterministic):

  cold  89 requests: 5 GETs (version, users/me, users, tags, albums),
        1 statistics, 43 searches (2 asset pages: with EXIF, then again
        without since some assets have no EXIF row; 7
        tag and 34 album memberships), the key's permissions (GET
        /api-keys/me, before the first write), the album list before the
        first write (a read torn by another writer is done again; the
        creates reuse the albums made meanwhile that it shows), then
        the writes: 28 album creates carrying their assets, 2 album adds,
        1 role change, 2 tag adds, 5 tag removals;
  warm  17 requests and no write: the same 5 GETs, 1 statistics, 11
        searches: the assets updated since the cold run's read (one
        search and its EXIF twin: the library itself is remembered in
        state.sqlite), 7 tags, and only the 2 albums the cold run added
        assets to (their updatedAt moved); the other memberships are
        remembered too, the new albums' from their creation.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

RUN_FIGURES = ["wall_s", "cpu_s", "peak_rss_kib", "requests", "writes",
               "by_endpoint", "bytes_in", "bytes_out", "connections",
               "network_wait_s", "service_s", "floor_s", "wall_over_floor",
               "per_asset_requests", "serialise_s", "jobs_wait_s",
               "jobs_left_s"]


def fail(msg):
    print("bench smoke: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--cold", type=int, required=True)
    ap.add_argument("--warm", type=int, required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "smoke.json")
        r = subprocess.run([sys.executable,
                            os.path.join(ROOT, "bench", "bench.py"), "smoke",
                            "--build", args.build, "--out", out])
        if r.returncode != 0:
            fail("bench.py smoke exited %d" % r.returncode)
        with open(out) as f:
            res = json.load(f)
    for run in ("cold", "warm"):
        for k in RUN_FIGURES:
            if k not in res.get(run, {}):
                fail("%s has no %s" % (run, k))
    b = res.get("baseline", {})
    for k in ("calls", "sampled_requests", "extrapolated_wall_s",
              "extrapolated_requests"):
        if k not in b:
            fail("baseline has no %s" % k)
    # (the extrapolated request count is bench.py's own constants summed:
    # comparing it with the same sum could not fail, so it is not checked)
    if b["sampled_requests"] != 5 * 2:
        fail("baseline sampled %d requests, want 10 (2 per call type)"
             % b["sampled_requests"])
    cold, warm = res["cold"], res["warm"]
    if cold["requests"] != args.cold:
        fail("cold made %d requests, want %d: %s"
             % (cold["requests"], args.cold, cold["by_endpoint"]))
    if warm["requests"] != args.warm or warm["writes"] != 0:
        fail("warm made %d requests (%d writes), want %d and none: %s"
             % (warm["requests"], warm["writes"], args.warm,
                warm["by_endpoint"]))
    if cold["per_asset_requests"] or warm["per_asset_requests"]:
        fail("a per-asset request was made")
    if not any(t["target"].startswith("warm writes") and t["met"]
               for t in res["targets"]):
        fail("the warm-writes target is not reported as met")
    print("bench smoke: cold %d requests, warm %d, every figure present"
          % (cold["requests"], warm["requests"]))


if __name__ == "__main__":
    main()
