#!/usr/bin/env python3
"""immich-autotag benchmarks: the seed profile's figures, measured side by
side with the upstream tool's request pattern on the same simulated server.

    bench/bench.py run [--build DIR] [--only baseline,cold,warm,nightly,scale,watch]
                       [--out FILE.json] [--markdown FILE.md]
    bench/bench.py compare A.json B.json
    bench/bench.py smoke --build DIR --out FILE.json      (the CI check)

What `run` measures, in one invocation (docs/performance.md says why):

  baseline  the upstream tool's pattern (docs/performance.md, "Baseline"):
            search pages of 250, one asset-info per asset, one album-info
            per album, one single-asset tag / untag call per change,
            sequential on one keep-alive connection.  Method (fixed): a
            sample of each call type (SAMPLE of the seed's count, at least
            SAMPLE_MIN) at the seed latency, its mean per call extrapolated
            to the seed's counts (107 / 35,402 / 3,377 / 2,479 / 1,418).
  cold      immich-autotag run, upstream template, fresh `seed` library.
  warm      the same again at once (nothing to change).
  watch     `run --watch` on a fresh `seed` library: the requests of its
            start (a poll and the full pass), then of one idle poll (the
            simulator's count between two "nothing new" lines, with no
            pass between them), beside the full read it replaces.
  scale     cold run on the `1m` library, latency off (its targets are
            client CPU, memory and request shape, not server time), plus a
            CPU profile of it (perf) when perf works here.

Every run: wall time, client CPU (user+sys) and peak RSS of the tool
process (wait4), requests by endpoint, bytes in/out, connections opened
(the simulator's counters after a reset), time waiting on the network
(the tool's metrics), and the floor: the simulator's summed modeled
service time divided by its capacity K (with --one-loop only its
database part, which is all a slot holds), or its serialisation on the
one thread when that is more.
"""
import argparse
import datetime
import http.client
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "tests", "data", "config", "upstream-template.yaml")

# The Python tool's measured run on the seed library (its profile: the
# "seed profile" columns of docs/performance.md, "Baseline").
SEED_WALL_S = 3427.55
SEED_REQUESTS = 43892
SEED_CALLS = [  # name, seed count, seed ms per call, endpoint
    ("search page (250)", 107, 67.0, "POST /search/metadata"),
    ("asset info", 35402, 36.73, "GET /assets/{id}"),
    ("album info", 3377, 241.0, "GET /albums/{id}"),
    ("tag one asset", 2479, 149.0, "PUT /tags/{id}/assets"),
    ("untag one asset", 1418, 200.0, "DELETE /tags/{id}/assets"),
]
SAMPLE = 0.02
SAMPLE_MIN = 20
CAPACITY = 10

TARGETS = {
    "cold_requests_max": 3500,
    "cold_speedup_min": 200.0,
    "cold_wall_over_floor_max": 1.2,
    "warm_writes": 0,
    "scale_rss_max_kib": 1024 * 1024,
    "scale_cpu_max_s": 60.0,
    "watch_idle_requests_max": 2,
    "nightly_unchanged_requests_max": 40,
    "nightly_unchanged_wall_max_s": 1.0,
    "nightly_changed_requests_max": 60,
}

NIGHTLY_UPLOADS = 100
NIGHTLY_EDITS = 50
NIGHTLY_SETTLE_S = 11


# ---- the simulator ---------------------------------------------------------

class Sim:
    def __init__(self, build, preset, latency, dialect=3, capacity=CAPACITY,
                 profile="test"):
        # profile "test": the simulator's deterministic server (no
        # background jobs, no OFFSET or one-thread cost), the model the
        # figures in docs/performance.md were measured on; "real" is
        # immich-sim's realistic default (docs/simulator.md)
        exe = os.path.join(build, "sim", "immich-sim")
        args = [exe, "--port", "0", "--profile", profile, "--preset", preset,
                "--seed", "1", "--latency", latency, "--capacity",
                str(capacity), "--dialect", str(dialect)]
        self.capacity = capacity
        self.latency = latency != "off"
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on http://127.0.0.1:"):
            self.stop()
            raise RuntimeError("immich-sim did not start: %r" % line)
        url, key = line[len("listening on "):].split(" api-key=")
        self.url, self.key = url, key
        self.port = int(url.rsplit(":", 1)[1])

    def request(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        headers = {"x-api-key": self.key}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        c.request(method, path, body=data, headers=headers)
        r = c.getresponse()
        out = r.read()
        c.close()
        return r.status, json.loads(out) if out else None

    def stats(self):
        return self.request("GET", "/__sim/stats")[1]

    def reset(self):
        self.request("POST", "/__sim/reset-stats")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()

    # `with Sim(...) as sim:` stops the simulator however the block ends
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# ---- the baseline pattern ----------------------------------------------------

def sample_count(seed_count, fraction):
    return max(SAMPLE_MIN, int(math.ceil(seed_count * fraction)))


def baseline(sim, fraction):
    """The upstream request pattern on a sample; returns the figures."""
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=600)
    headers = {"x-api-key": sim.key, "Content-Type": "application/json"}
    times = {name: [] for name, _, _, _ in SEED_CALLS}

    def call(name, method, path, body=None):
        data = json.dumps(body) if body is not None else None
        t0 = time.perf_counter()
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        raw = r.read()
        dt = time.perf_counter() - t0
        if name:
            times[name].append(dt)
        if r.status >= 400:
            raise RuntimeError("baseline %s %s: %d" % (method, path,
                                                       r.status))
        return json.loads(raw) if raw else None

    n = {name: sample_count(count, fraction)
         for name, count, _, _ in SEED_CALLS}
    sim.reset()
    t_start = time.perf_counter()
    assets = []
    page = 1
    while len(times["search page (250)"]) < n["search page (250)"]:
        res = call("search page (250)", "POST", "/api/search/metadata",
                   {"page": page, "size": 250})
        assets += [a["id"] for a in res["assets"]["items"]]
        page = page + 1 if res["assets"]["nextPage"] else 1
    for i in range(n["asset info"]):
        call("asset info", "GET", "/api/assets/%s" % assets[i % len(assets)])
    albums = [a["id"] for a in call(None, "GET", "/api/albums")]
    for i in range(n["album info"]):
        call("album info", "GET", "/api/albums/%s" % albums[i % len(albums)])
    tags = call(None, "PUT", "/api/tags", {"tags": ["bench_baseline_tag"]})
    tag = tags[0]["id"]
    for i in range(n["tag one asset"]):
        call("tag one asset", "PUT", "/api/tags/%s/assets" % tag,
             {"ids": [assets[i % len(assets)]]})
    for i in range(n["untag one asset"]):
        call("untag one asset", "DELETE", "/api/tags/%s/assets" % tag,
             {"ids": [assets[i % len(assets)]]})
    sampled_wall = time.perf_counter() - t_start
    conn.close()
    st = sim.stats()
    calls = []
    extrapolated = 0.0
    for name, count, seed_ms, endpoint in SEED_CALLS:
        mean_ms = 1000.0 * sum(times[name]) / len(times[name])
        extrapolated += count * mean_ms / 1000.0
        calls.append({"call": name, "endpoint": endpoint,
                      "sampled": len(times[name]), "seed_count": count,
                      "mean_ms": round(mean_ms, 2), "seed_ms": seed_ms,
                      "off_by_pct": round(100.0 * (mean_ms - seed_ms)
                                          / seed_ms, 1)})
    return {
        "method": "sample of %.0f%% of each call type (at least %d) at the "
                  "seed latency, means extrapolated to the seed's call "
                  "counts" % (100 * fraction, SAMPLE_MIN),
        "calls": calls,
        "sampled_requests": sum(len(v) for v in times.values()),
        "sampled_wall_s": round(sampled_wall, 2),
        "extrapolated_requests": sum(c for _, c, _, _ in SEED_CALLS),
        "extrapolated_wall_s": round(extrapolated, 1),
        "connections": st.get("connections"),
        "seed_profile_wall_s": SEED_WALL_S,
        "seed_profile_requests": SEED_REQUESTS,
    }


# ---- a run of the tool -------------------------------------------------------

def run_tool(build, sim, work, name, extra=()):
    tool = os.path.join(build, "immich-autotag")
    logs = os.path.join(work, "logs")
    metrics = os.path.join(work, name + "-metrics.json")
    env = dict(os.environ, IMMICH_URL=sim.url, IMMICH_API_KEY=sim.key)
    env.pop("IMMICH_AUTOTAG_CONFIG", None)
    cmd = [tool, "run", "--quiet", "--config", CONFIG, "--log-dir", logs,
           "--metrics-json", metrics] + list(extra)
    sim.reset()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError("%s run exited %d: %s" % (name, p.returncode,
                                                     err.decode()[-500:]))
    st = sim.stats()
    with open(metrics) as f:
        m = json.load(f)
    # The floor: the work that holds the server's K slots over K, but
    # never less than the part that runs on its one JavaScript thread
    # (serialise_ms, sequential whatever K).  With --one-loop a slot is
    # held for the database part only (service_ms - serialise_ms: the
    # connection goes back before serialisation); without, for all of it.
    serialise = st.get("serialise_ms", 0) / 1000.0
    slotted = st["service_ms"] / 1000.0
    if st.get("one_loop"):
        slotted -= serialise
    floor = (max(slotted / sim.capacity, serialise)
             if sim.latency else None)
    by_ep = dict(sorted(st["by_endpoint"].items()))
    jobs = st.get("jobs", {})
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(ru.ru_utime + ru.ru_stime, 3),
        "peak_rss_kib": ru.ru_maxrss,
        "requests": st["requests"],
        "writes": st["writes"],
        "by_endpoint": by_ep,
        # the simulator's in is the client's out
        "bytes_in": st["bytes_out"],
        "bytes_out": st["bytes_in"],
        "connections": st["connections"],
        "max_in_flight": st["max_in_flight"],
        "network_wait_s": round(m.get("wait_s", 0.0), 3),
        "service_s": round(st["service_ms"] / 1000.0, 2),
        "floor_s": round(floor, 3) if floor else None,
        "wall_over_floor": round(wall / floor, 2) if floor else None,
        "per_asset_requests": sum(v for k, v in by_ep.items()
                                  if k.startswith("GET /assets/{id}")
                                  or k.startswith("PUT /assets/{id}")),
        "serialise_s": round(serialise, 2),
        # the server's background jobs, apart from the wall time: what the
        # run itself waited for them (holding writes, checking tags after
        # them: its timeline), and what it left queued when it ended
        "jobs_wait_s": round(jobs_waited(logs), 2),
        "jobs_left_s": round(jobs.get("drain_ms", 0) / 1000.0, 2),
    }


def jobs_waited(logs):
    """Seconds the newest run in logs spent on the server's job queues
    (the timeline phases that name them)."""
    runs = sorted(d for d in os.listdir(logs)
                  if os.path.isdir(os.path.join(logs, d)))
    if not runs:
        return 0.0
    path = os.path.join(logs, runs[-1], "timeline.json")
    if not os.path.exists(path):
        return 0.0
    with open(path) as f:
        spans = json.load(f)
    return sum(x["end_ms"] - x["start_ms"] for x in spans
               if "job queues" in x["phase"]) / 1000.0


def drain_jobs(sim, limit_s=600):
    """Waits until the server's job queues are empty (what a night
    between two runs gives); returns the seconds waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit_s:
        j = sim.stats().get("jobs", {})
        if not j.get("on") or not j.get("drain_ms"):
            break
        time.sleep(min(1.0, j["drain_ms"] / 1000.0 + 0.05))
    return round(time.perf_counter() - t0, 2)


def watch_figures(build, sim, work, interval="2s", max_wait_s=1800):
    """run --watch: requests of the start (poll + full pass) and of one idle
    poll, counted by the simulator while the tool sleeps between polls."""
    tool = os.path.join(build, "immich-autotag")
    errpath = os.path.join(work, "watch.err")
    env = dict(os.environ, IMMICH_URL=sim.url, IMMICH_API_KEY=sim.key)
    env.pop("IMMICH_AUTOTAG_CONFIG", None)
    cmd = [tool, "run", "--watch", interval, "--config", CONFIG,
           "--log-dir", os.path.join(work, "watch-logs")]
    sim.reset()
    t0 = time.perf_counter()
    with open(errpath, "wb") as err:
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                             stderr=err)
    marks = []  # (offset after an idle line, sim stats then)
    start = None
    try:
        while time.perf_counter() - t0 < max_wait_s:
            if p.poll() is not None:
                raise RuntimeError("watch exited %d" % p.returncode)
            with open(errpath, "rb") as f:
                text = f.read().decode(errors="replace")
            if start is None and "watching: next poll in" in text:
                start = (sim.stats(), time.perf_counter() - t0)
            at = marks[-1][0] if marks else 0
            k = text.find("watching: nothing new", at)
            if k >= 0:
                end = text.find("\n", k)
                if end >= 0:
                    marks.append((end, sim.stats(), text[at:k]))
                    # two idle lines with no pass between them
                    if (len(marks) >= 2 and "running a pass" not in marks[-1][2]
                            and "full pass" not in marks[-1][2]):
                        break
            time.sleep(0.05)
        else:
            raise RuntimeError("watch: no idle poll within %d s" % max_wait_s)
    finally:
        p.terminate()
        p.wait()
    a, b = marks[-2][1], marks[-1][1]
    eps = {e: n - a["by_endpoint"].get(e, 0)
           for e, n in b["by_endpoint"].items()
           if n - a["by_endpoint"].get(e, 0)}
    return {
        "start_requests": start[0]["requests"],
        "start_s": round(start[1], 2),
        "idle_poll_requests": b["requests"] - a["requests"],
        "idle_poll_bytes_in": b["bytes_out"] - a["bytes_out"],
        "idle_poll_by_endpoint": dict(sorted(eps.items())),
        "exit_on_sigterm": p.returncode,
    }


PHASES = [("evaluate", "rules_evaluate"), ("read", "snapshot_load"),
          ("write", "apply_run")]


def parse_perf_script(text):
    """Samples of `perf script` as lists of (symbol, dso), leaf first."""
    samples, cur = [], None
    for line in text.splitlines():
        if not line.strip():
            if cur:
                samples.append(cur)
            cur = None
            continue
        if not line.startswith(("\t", " ")):
            cur = []
            continue
        if cur is None:
            continue
        parts = line.strip().split(" ", 1)
        if len(parts) < 2:
            continue
        sym, _, dso = parts[1].rpartition(" (")
        sym = sym.split("+0x")[0]
        cur.append((sym, dso.rstrip(")").rsplit("/", 1)[-1]))
    if cur:
        samples.append(cur)
    return samples


def profile(build, sim, work, top=12):
    """perf of a plan of the scale library: where the CPU goes by phase,
    and the hottest functions of the evaluation phase."""
    if not shutil.which("perf"):
        return {"unavailable": "perf is not installed"}
    data = os.path.join(work, "perf.data")
    env = dict(os.environ, IMMICH_URL=sim.url, IMMICH_API_KEY=sim.key)
    cmd = ["perf", "record", "-F", "999", "-g", "-o", data, "--",
           os.path.join(build, "immich-autotag"), "plan", "--quiet",
           "--config", CONFIG]
    r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    if r.returncode != 0:
        return {"unavailable": "perf record failed: %s"
                % r.stderr.decode()[-300:].strip()}
    sc = subprocess.run(["perf", "script", "-i", data], text=True,
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    samples = parse_perf_script(sc.stdout)
    if not samples:
        return {"unavailable": "perf recorded no samples"}
    phases = {name: 0 for name, _ in PHASES}
    leaves = {}
    in_eval = 0
    for st in samples:
        names = [s for s, _ in st]
        for name, fn in PHASES:
            if fn in names:
                phases[name] += 1
                break
        if "rules_evaluate" in names:
            in_eval += 1
            leaves[st[0]] = leaves.get(st[0], 0) + 1
    total = len(samples)
    rows = [{"pct_of_evaluation": round(100.0 * n / in_eval, 2),
             "symbol": sym, "dso": dso}
            for (sym, dso), n in sorted(leaves.items(),
                                        key=lambda x: -x[1])[:top]]
    return {"tool": "perf record -g at 999 Hz, stacks attributed by "
                    "perf script",
            "command": "immich-autotag plan on the 1m library",
            "samples": total,
            "phases_pct": {k: round(100.0 * v / total, 1)
                           for k, v in phases.items()},
            "evaluation_samples": in_eval,
            "top": rows}


# ---- output ----------------------------------------------------------------------

def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_mib": mem,
            "kernel": platform.release(),
            "date": datetime.datetime.now(datetime.timezone.utc)
                            .strftime("%Y-%m-%d %H:%M UTC")}


def verdicts(res):
    v = []
    b, c, w, s = (res.get(k) for k in ("baseline", "cold", "warm", "scale"))
    if c:
        v.append(("cold requests <= %d" % TARGETS["cold_requests_max"],
                  c["requests"], c["requests"] <= TARGETS["cold_requests_max"]))
        v.append(("cold wall <= %.1fx floor"
                  % TARGETS["cold_wall_over_floor_max"], c["wall_over_floor"],
                  c["wall_over_floor"] is not None and c["wall_over_floor"]
                  <= TARGETS["cold_wall_over_floor_max"]))
    if b and c:
        speed = b["extrapolated_wall_s"] / c["wall_s"]
        res["cold_speedup"] = round(speed, 1)
        v.append(("cold >= %.0fx faster than the baseline"
                  % TARGETS["cold_speedup_min"], round(speed, 1),
                  speed >= TARGETS["cold_speedup_min"]))
    if w:
        v.append(("warm writes == 0", w["writes"], w["writes"] == 0))
    wa = res.get("watch")
    if wa:
        v.append(("watch idle poll requests <= %d"
                  % TARGETS["watch_idle_requests_max"],
                  wa["idle_poll_requests"],
                  wa["idle_poll_requests"]
                  <= TARGETS["watch_idle_requests_max"]))
    nu, nc = res.get("nightly_unchanged"), res.get("nightly_changed")
    if nu:
        v.append(("nightly unchanged requests <= %d"
                  % TARGETS["nightly_unchanged_requests_max"],
                  nu["requests"],
                  nu["requests"] <= TARGETS["nightly_unchanged_requests_max"]))
        v.append(("nightly unchanged wall <= %.0f s"
                  % TARGETS["nightly_unchanged_wall_max_s"], nu["wall_s"],
                  nu["wall_s"] <= TARGETS["nightly_unchanged_wall_max_s"]))
    if nc:
        v.append(("nightly after changes requests <= %d"
                  % TARGETS["nightly_changed_requests_max"], nc["requests"],
                  nc["requests"] <= TARGETS["nightly_changed_requests_max"]))
    if s:
        v.append(("scale peak RSS <= 1 GiB", "%d MiB"
                  % (s["peak_rss_kib"] // 1024),
                  s["peak_rss_kib"] <= TARGETS["scale_rss_max_kib"]))
        v.append(("scale client CPU <= 60 s", s["cpu_s"],
                  s["cpu_s"] <= TARGETS["scale_cpu_max_s"]))
        v.append(("scale: no per-asset request", s["per_asset_requests"],
                  s["per_asset_requests"] == 0))
    res["targets"] = [{"target": t, "value": val, "met": ok}
                      for t, val, ok in v]


RUN_FIELDS = [("wall s", "wall_s"), ("client CPU s", "cpu_s"),
              ("peak RSS MiB", None), ("requests", "requests"),
              ("writes", "writes"), ("bytes in", "bytes_in"),
              ("bytes out", "bytes_out"), ("connections", "connections"),
              ("network wait s", "network_wait_s"), ("floor s", "floor_s"),
              ("of it one-thread serialisation s", "serialise_s"),
              ("wall / floor", "wall_over_floor"),
              ("job-queue wait in the run s", "jobs_wait_s"),
              ("job-queue work left after it s", "jobs_left_s")]


def run_value(r, key):
    if key is None:
        return r["peak_rss_kib"] // 1024
    return "n/a" if r.get(key) is None else r[key]


def table(res):
    out = []
    runs = [k for k in ("cold", "warm", "nightly_unchanged",
                        "nightly_unchanged_full", "nightly_changed",
                        "nightly_changed_full", "scale") if k in res]
    if runs:
        out.append("| figure | " + " | ".join(runs) + " |")
        out.append("|---|" + "---:|" * len(runs))
        for label, key in RUN_FIELDS:
            out.append("| %s | %s |" % (label, " | ".join(
                str(run_value(res[k], key)) for k in runs)))
    return "\n".join(out)


def endpoint_table(res):
    runs = [k for k in ("cold", "warm", "nightly_unchanged",
                        "nightly_unchanged_full", "nightly_changed",
                        "nightly_changed_full", "scale") if k in res]
    eps = sorted({e for k in runs for e in res[k]["by_endpoint"]})
    out = ["| endpoint | " + " | ".join(runs) + " |",
           "|---|" + "---:|" * len(runs)]
    for e in eps:
        out.append("| `%s` | %s |" % (e, " | ".join(
            str(res[k]["by_endpoint"].get(e, 0)) for k in runs)))
    return "\n".join(out)


def markdown(res):
    m = res["machine"]
    lines = ["# Performance", "",
             "Generated by `bench/bench.py run` on %s (%s, %s cores, %d MiB, "
             "Linux %s).  Re-run it to regenerate this page; `bench/bench.py "
             "compare A.json B.json` compares two result files."
             % (m["date"], m["cpu"], m["cores"], m["memory_mib"],
                m["kernel"]), "",
             "The server is `immich-sim` (`--profile %s`) with the seed "
             "latency model and "
             "capacity K = %d (docs/simulator.md), on loopback.  The floor "
             "of a run is the fastest any client could make the requests "
             "it made: the simulator's summed modeled service time of "
             "them divided by K (with `--one-loop`, on in the realistic "
             "profile, a slot holds only the database part, so "
             "`(service_ms - serialise_ms) / K`), or the part that runs "
             "on the server's one JavaScript thread (`serialise_ms`, "
             "sequential whatever K) when that is more.  The "
             "server's background jobs are apart from the wall time: "
             "what the run waited for them (holding writes, checking tags "
             "after them) and the queued work it left when it ended; "
             "the warm run starts once the cold run's jobs are done."
             % (res.get("sim_profile", "test"), CAPACITY), ""]
    if "targets" in res:
        lines += ["## Targets", "", "| target | value | met |", "|---|---:|---|"]
        for t in res["targets"]:
            lines.append("| %s | %s | %s |" % (t["target"], t["value"],
                                               "yes" if t["met"] else "**no**"))
        lines.append("")
    b = res.get("baseline")
    if b:
        lines += ["## Baseline: the upstream request pattern", "",
                  "Method (fixed): %s.  Sequential, one keep-alive "
                  "connection.  Sampled: %d requests in %.1f s."
                  % (b["method"], b["sampled_requests"], b["sampled_wall_s"]),
                  "", "| call | sampled | mean ms | seed profile ms | seed "
                  "count |", "|---|---:|---:|---:|---:|"]
        for c in b["calls"]:
            lines.append("| %s | %d | %.1f | %.1f | %d |"
                         % (c["call"], c["sampled"], c["mean_ms"],
                            c["seed_ms"], c["seed_count"]))
        lines += ["", "Extrapolated: %d requests, **%.0f s** (the seed "
                  "profile measured %.0f s for %d requests on a real "
                  "server)." % (b["extrapolated_requests"],
                                b["extrapolated_wall_s"], SEED_WALL_S,
                                SEED_REQUESTS), ""]
    if any(k in res for k in ("cold", "warm", "scale", "nightly_unchanged")):
        lines += ["## immich-autotag", "",
                  "cold: the `seed` library, fresh, upstream template.  warm: "
                  "the same again at once.  nightly_unchanged: after a cold "
                  "run, the server's jobs settled and one run that absorbed "
                  "them, a run with nothing changed (incremental read); "
                  "nightly_unchanged_full: the same with `--full-read`.  "
                  "nightly_changed: then 100 uploads and 50 edits, and the "
                  "run; nightly_changed_full: the same history on a second "
                  "server, read with `--full-read`.  "
                  "scale: the `1m` library, fresh, "
                  "latency off (no floor: its targets are client CPU, "
                  "memory and the shape of the requests).  Bytes are the "
                  "client's, on the wire: plain JSON since the tool asks no "
                  "gzip of a server on this host (issue #13; runs measured "
                  "before that were gzip).",
                  "", table(res), "", "Requests by endpoint:",
                  "", endpoint_table(res), ""]
    wa = res.get("watch")
    if wa:
        full = res.get("warm") or res.get("cold")
        lines += ["## Watch mode: an idle poll", "",
                  "`run --watch 2s` on a fresh `seed` library: its start "
                  "(the first poll and the full pass) made %d requests in "
                  "%.1f s; then one idle poll made **%d requests** (%s), "
                  "%d bytes in%s."
                  % (wa["start_requests"], wa["start_s"],
                     wa["idle_poll_requests"],
                     ", ".join("`%s` %d" % kv for kv in
                               wa["idle_poll_by_endpoint"].items()),
                     wa["idle_poll_bytes_in"],
                     ", where a run on the unchanged library (%s, above) "
                     "makes %d" % ("warm" if res.get("warm") else "cold",
                                   full["requests"]) if full else ""), ""]
    if "cold_speedup" in res:
        lines += ["Cold run against the baseline pattern: **%.0fx** faster "
                  "(%.0f s / %.2f s)." % (res["cold_speedup"],
                                           b["extrapolated_wall_s"],
                                           res["cold"]["wall_s"]), ""]
    p = res.get("profile")
    if p:
        lines += ["## CPU profile of the scale run", ""]
        if "top" in p:
            ph = p["phases_pct"]
            lines += ["%s, %s: %d samples, %.1f %% of them under "
                      "`rules_evaluate` (the evaluation phase; stacks through "
                      "libcurl cannot be walked, so the read phase is not "
                      "split out).  The evaluation phase's own hot spots "
                      "(self samples under `rules_evaluate`):"
                      % (p["command"], p["tool"], p["samples"],
                         ph["evaluate"]), "",
                      "| % of evaluation | object | function |",
                      "|---:|---|---|"]
            for r in p["top"]:
                lines.append("| %.2f | %s | `%s` |"
                             % (r["pct_of_evaluation"], r["dso"],
                                r["symbol"]))
        else:
            lines.append("Not measured: %s." % p["unavailable"])
        lines.append("")
    notes = res.get("notes")
    if notes:
        lines += ["## What holds the targets back", ""] + notes + [""]
    return "\n".join(lines)


# ---- commands -----------------------------------------------------------------

def nightly_history(sim, build, work, name):
    """A cold run, the server's jobs settled, one run to absorb their
    effects (the library read then is what the nightly run starts from)."""
    run_tool(build, sim, work, name + "-cold")
    sim.request("POST", "/__sim/jobs/run")
    # An incremental read asks for what changed since 10 s before the
    # last read began (src/snapshot/snapshot_incr.c, MARGIN_MS); the
    # forced settle stamps every job at one instant, which a read
    # starting within 10 s would leave for the next one to read again.
    time.sleep(NIGHTLY_SETTLE_S)
    run_tool(build, sim, work, name + "-absorb")


def nightly_changes(sim):
    """100 new uploads and 50 edits (a favourite set: moves updatedAt)."""
    st, up = sim.request("POST", "/__sim/upload",
                         {"count": NIGHTLY_UPLOADS})
    assert st == 200, up
    _, me = sim.request("GET", "/api/users/me")
    _, page = sim.request("POST", "/api/search/metadata",
                          {"size": NIGHTLY_EDITS + NIGHTLY_UPLOADS,
                           "order": "asc"})
    ids = [a["id"] for a in page["assets"]["items"]
           if a["ownerId"] == me["id"]][:NIGHTLY_EDITS]
    for i in ids:
        st, _ = sim.request("PUT", "/api/assets/" + i, {"isFavorite": True})
        assert st == 200


def subdir(work, name):
    """A new folder for one measurement inside the benchmark's work folder."""
    path = os.path.join(work, name)
    os.makedirs(path)
    return path


def nightly(args, work):
    """The nightly run: unchanged, and after the changes, each beside the
    full read it replaces (--full-read on the same history; the changed
    one on a second server with the same history, since the measured run
    writes)."""
    out = {}
    with Sim(args.build, args.preset, "seed", profile=args.sim_profile) as sim:
        a = subdir(work, "nightly-a")
        nightly_history(sim, args.build, a, "n")
        out["nightly_unchanged"] = run_tool(args.build, sim, a, "unchanged")
        out["nightly_unchanged_full"] = run_tool(args.build, sim, a,
                                                 "unchanged-full",
                                                 ["--full-read"])
        nightly_changes(sim)
        out["nightly_changed"] = run_tool(args.build, sim, a, "changed")
    with Sim(args.build, args.preset, "seed", profile=args.sim_profile) as sim:
        b = subdir(work, "nightly-b")
        nightly_history(sim, args.build, b, "n")
        nightly_changes(sim)
        out["nightly_changed_full"] = run_tool(args.build, sim, b,
                                               "changed-full",
                                               ["--full-read"])
    return out


def cmd_run(args):
    only = set(args.only.split(","))
    res = {"machine": machine(), "capacity": CAPACITY,
           "sim_profile": args.sim_profile}
    work = tempfile.mkdtemp(prefix="ia-bench-")
    try:
        if "baseline" in only:
            with Sim(args.build, args.preset, "seed",
                     profile=args.sim_profile) as sim:
                print("baseline: sampling the upstream pattern...",
                      file=sys.stderr)
                res["baseline"] = baseline(sim, args.sample)
        if only & {"cold", "warm"}:
            with Sim(args.build, args.preset, "seed",
                     profile=args.sim_profile) as sim:
                if "cold" in only:
                    print("cold run...", file=sys.stderr)
                    res["cold"] = run_tool(args.build, sim, work, "cold")
                if "warm" in only:
                    # the cold run's jobs finish first, as they would
                    # overnight (the wait is reported, not timed)
                    drained = drain_jobs(sim)
                    print("warm run...", file=sys.stderr)
                    res["warm"] = run_tool(args.build, sim, work, "warm")
                    res["warm"]["jobs_drained_before_s"] = drained
        if "watch" in only:
            with Sim(args.build, args.preset, "seed",
                     profile=args.sim_profile) as sim:
                print("watch...", file=sys.stderr)
                res["watch"] = watch_figures(args.build, sim,
                                             subdir(work, "watch"))
        if "nightly" in only:
            print("nightly runs...", file=sys.stderr)
            res.update(nightly(args, work))
        if "scale" in only:
            with Sim(args.build, args.scale_preset, "off",
                     profile=args.sim_profile) as sim:
                print("scale run...", file=sys.stderr)
                res["scale"] = run_tool(args.build, sim, subdir(work, "scale"),
                                        "scale")
                if not args.no_profile:
                    print("profile...", file=sys.stderr)
                    res["profile"] = profile(args.build, sim, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    verdicts(res)
    if args.notes:
        with open(args.notes) as f:
            res["notes"] = [l.rstrip("\n") for l in f]
    print(table(res))
    for t in res["targets"]:
        print("%-42s %-12s %s" % (t["target"], t["value"],
                                  "met" if t["met"] else "NOT MET"))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(res))
    return 0


def flat(res, prefix=""):
    out = {}
    for k, v in res.items():
        key = prefix + k
        if isinstance(v, dict):
            out.update(flat(v, key + "."))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[key] = v
    return out


def cmd_compare(args):
    with open(args.a) as f:
        a = flat(json.load(f))
    with open(args.b) as f:
        b = flat(json.load(f))
    keys = sorted(set(a) | set(b))
    print("%-52s %14s %14s %9s" % ("figure", "A", "B", "change"))
    for k in keys:
        if k.startswith("machine.") or k.startswith("capacity"):
            continue
        x, y = a.get(k), b.get(k)
        if x == y:
            continue
        if x is None or y is None:
            ch = "new" if x is None else "gone"
        elif x == 0:
            ch = "+inf"
        else:
            ch = "%+.1f%%" % (100.0 * (y - x) / x)
        print("%-52s %14s %14s %9s" % (k, x, y, ch))
    return 0


def cmd_smoke(args):
    """Small library, latency off: every figure produced, counts as stated."""
    global SAMPLE_MIN
    SAMPLE_MIN = 2
    res = {"machine": machine(), "capacity": CAPACITY}
    work = tempfile.mkdtemp(prefix="ia-bench-smoke-")
    try:
        with Sim(args.build, "small", "off") as sim:
            res["baseline"] = baseline(sim, 0.0)
        with Sim(args.build, "small", "off") as sim:
            res["cold"] = run_tool(args.build, sim, work, "cold")
            res["warm"] = run_tool(args.build, sim, work, "warm")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    verdicts(res)
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    markdown(res)  # every figure formats
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="measure and report")
    r.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    r.add_argument("--only", default="baseline,cold,warm,nightly,scale,watch")
    r.add_argument("--preset", default="seed")
    r.add_argument("--scale-preset", default="1m")
    r.add_argument("--sample", type=float, default=SAMPLE)
    r.add_argument("--out")
    r.add_argument("--markdown")
    r.add_argument("--notes", help="markdown lines for the report")
    r.add_argument("--no-profile", action="store_true")
    r.add_argument("--sim-profile", choices=("test", "real"), default="test",
                   help="immich-sim's --profile (real: background jobs, "
                        "deep-page and one-thread costs)")
    c = sub.add_parser("compare", help="differences between two results")
    c.add_argument("a")
    c.add_argument("b")
    s = sub.add_parser("smoke", help="small, fast check of every figure")
    s.add_argument("--build", required=True)
    s.add_argument("--out", required=True)
    args = ap.parse_args()
    return {"run": cmd_run, "compare": cmd_compare,
            "smoke": cmd_smoke}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
