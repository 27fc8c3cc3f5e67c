#!/usr/bin/env python3
"""Results of bench/run.sh: one JSON file, a table, and the PASS/FAIL of each target.

    .runtime/venv/bin/python bench/run_report.py params RUN_DIR/params.json KEY=VALUE ...
    .runtime/venv/bin/python bench/run_report.py report RUN_DIR RESULTS.json

`params` writes the run's settings (numbers become JSON numbers). `report` reads what bench/run.sh
left in RUN_DIR, writes RESULTS.json, prints the tables and the targets, and exits
  0  the run is complete (in full mode also when a target fails: that is a result, not a breakage)
  1  the harness broke (a missing or malformed piece, a run with no requests, a problem bench/run.sh
     logged, a server that reports other settings than it was given), or, in smoke mode, an
     unexpected answer (anything but 2xx, or 503/504 in the small-queue deadline run).

RUN_DIR, for each engine E of params "engines" (files bench/run.sh writes):
  floor-E.json                  `deep-model-bench floor` output
  E-main-{loaded,warm,end}.status       /proc/PID/status of the main server (VmRSS, VmHWM):
                                        model loaded, after the warm-up, after the load runs
  E-main-warm.stats.json        GET /statistics after the warm-up (counters are cumulative, so
                                each run's numbers are the difference with the snapshot before it)
  E-cN.wrk.txt, E-cN.stats.json wrk's output (its last JSON line: bench/wrk/summary.lua) and
                                /statistics after the run, N in params "concurrency" (NAME.stats.error
                                instead of NAME.stats.json: GET /statistics failed, how)
  E-deadline-{warm,end}.status, E-deadline-warm.stats.json, E-cD.wrk.txt, E-cD.stats.json
                                the same for the small-queue server, D = "deadline_concurrency"
  ping-dms.wrk.txt, ping-bare.wrk.txt   wrk on GET /ping of DMS and of `deep-model-bench ping-server`
  problems.txt                  (optional) problems bench/run.sh noticed, one per line
"""

import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Targets (the benchmark issue).
C1_LATENCY_FACTOR = 1.10  # c=1 p50 <= 1.10 x floor batch-1 ms per image
C16_THROUGHPUT_FACTOR = 0.90  # c=16 req/s >= 0.90 x floor best images/s
DEADLINE_SLACK_MS = 50.0  # max latency <= deadline + slack
GOODPUT_FACTOR = 0.90  # 2xx/s under overload (deadline run) >= 0.90 x 2xx/s at c=16
RSS_CHANGE_LIMIT = 0.10  # RSS after the deadline run within 10 % of before
PING_FACTOR = 0.80  # DMS /ping >= 0.8 x bare Hummingbird
RSS_OVERHEAD_MIB = 64.0  # server RSS with the model loaded <= floor RSS + 64 MiB

WRK_FIELDS = ("requests", "duration_s", "requests_per_s", "p50_ms", "p90_ms", "p99_ms", "max_ms",
              "non_2xx", "socket_errors", "errors", "status")
STATUS_KEYS = ("2xx", "503", "504", "5xx_other", "other")
FLOOR_RESULT_FIELDS = ("batch_size", "batches", "images_per_s", "ms_per_batch_p50", "ms_per_image")
STATS_COUNTERS = ("requests", "engine_calls", "rejected", "expired", "cancelled", "failed")
STATS_FIELDS = STATS_COUNTERS + ("workers", "max_batch_size", "max_batch_delay_ms", "queue_size",
                                 "queued", "running", "batch_sizes")


class Report:
    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.breakage = []  # the harness did not produce what it should
        self.unexpected = []  # answers that should not happen (fatal in smoke mode)
        self.stats_cache = {}

    def path(self, name):
        return os.path.join(self.run_dir, name)

    def broken(self, message):
        self.breakage.append(message)

    # --- readers -------------------------------------------------------------------------------
    def read_json(self, name):
        try:
            with open(self.path(name)) as f:
                return json.load(f)
        except FileNotFoundError:
            self.broken(f"{name}: missing")
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            self.broken(f"{name}: not JSON ({error})")
        return None

    def read_wrk(self, name):
        """The summary line of bench/wrk/summary.lua in a wrk output file."""
        try:
            with open(self.path(name)) as f:
                lines = [line for line in f if line.startswith('{"requests"')]
        except FileNotFoundError:
            self.broken(f"{name}: missing")
            return None
        if not lines:
            self.broken(f"{name}: no JSON summary line (did wrk or the Lua script fail?)")
            return None
        try:
            result = json.loads(lines[-1])
        except json.JSONDecodeError as error:
            self.broken(f"{name}: bad JSON summary ({error})")
            return None
        missing = [k for k in WRK_FIELDS if k not in result]
        if missing:
            self.broken(f"{name}: summary lacks {', '.join(missing)}")
            return None
        if result["requests"] == 0:
            self.broken(f"{name}: no request completed")
        return result

    def read_status(self, name):
        """VmRSS and VmHWM (MiB) of a saved /proc/PID/status."""
        values = {}
        try:
            with open(self.path(name)) as f:
                for line in f:
                    key, _, rest = line.partition(":")
                    if key in ("VmRSS", "VmHWM"):
                        values[key] = int(rest.split()[0]) / 1024.0  # kB -> MiB
        except FileNotFoundError:
            self.broken(f"{name}: missing")
            return None
        if set(values) != {"VmRSS", "VmHWM"}:
            self.broken(f"{name}: no VmRSS/VmHWM")
            return None
        return {"rss_mib": round(values["VmRSS"], 1), "peak_rss_mib": round(values["VmHWM"], 1)}

    def read_floor(self, engine):
        name = f"floor-{engine}.json"
        floor = self.read_json(name)
        if floor is None:
            return None
        missing = [k for k in ("engine", "model", "engine_threads", "rss_after_load_mib", "peak_rss_mib",
                               "results", "best") if k not in floor]
        if missing:
            self.broken(f"{name}: lacks {', '.join(missing)}")
            return None
        for result in floor["results"]:
            lacking = [k for k in FLOOR_RESULT_FIELDS if k not in result]
            if lacking:
                self.broken(f"{name}: a result lacks {', '.join(lacking)}")
                return None
        if not any(r["batch_size"] == 1 for r in floor["results"]):
            self.broken(f"{name}: no batch-1 result")
            return None
        if not all(k in floor["best"] for k in ("batch_size", "images_per_s", "ms_per_image")):
            self.broken(f"{name}: best lacks batch_size, images_per_s or ms_per_image")
            return None
        return floor

    def read_stats(self, name, model):
        if name not in self.stats_cache:
            self.stats_cache[name] = self._read_stats(name, model)
        return self.stats_cache[name]

    def _read_stats(self, name, model):
        error = self.path(name.replace(".stats.json", ".stats.error"))
        if not os.path.exists(self.path(name)) and os.path.exists(error):
            with open(error) as f:
                self.broken(f"{name}: GET /statistics failed: {' '.join(f.read().split())[:200]}")
            return None
        stats = self.read_json(name)
        if stats is None:
            return None
        mine = stats.get("models", {}).get(model) if isinstance(stats, dict) else None
        if not isinstance(mine, dict):
            self.broken(f"{name}: no models.{model}")
            return None
        missing = [k for k in STATS_FIELDS if k not in mine]
        if missing:
            self.broken(f"{name}: models.{model} lacks {', '.join(missing)}")
            return None
        return mine


def stats_delta(before, after):
    """Counters of one run: the difference of two /statistics snapshots."""
    if before is None or after is None:
        return None
    delta = {k: after[k] - before[k] for k in STATS_COUNTERS}
    sizes = {}
    for size, count in after["batch_sizes"].items():
        n = count - before["batch_sizes"].get(size, 0)
        if n:
            sizes[size] = n
    delta["batch_sizes"] = sizes
    calls = sum(sizes.values())
    delta["mean_batch_size"] = round(sum(int(s) * n for s, n in sizes.items()) / calls, 2) if calls else None
    return delta


def machine():
    def first(path, key):
        try:
            with open(path) as f:
                for line in f:
                    if line.split(":")[0].strip() == key:
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return None

    def command(*argv):
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else None
        except (OSError, subprocess.TimeoutExpired):
            return None

    mem = first("/proc/meminfo", "MemTotal")
    os_name = None
    try:
        with open("/etc/os-release") as f:
            os_name = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line).get("PRETTY_NAME", "").strip('"')
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": first("/proc/cpuinfo", "model name"),
        "memory_mib": round(int(mem.split()[0]) / 1024) if mem else None,
        "kernel": platform.release(),
        "os": os_name,
        "swift": command("swift", "--version"),
        "wrk": command("wrk", "-v"),
    }


def git_info():
    def git(*argv):
        out = subprocess.run(["git", "-C", ROOT, *argv], capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(status) if status is not None else None}


# --- formatting ----------------------------------------------------------------------------------
def fmt(value, digits=1, width=0):
    text = "-" if value is None else (f"{value:.{digits}f}" if isinstance(value, float) else str(value))
    return text.rjust(width)


def build(report, params):
    engines = params["engines"].split()
    model = params["model_name"]
    deadline_c = params["deadline_concurrency"]
    deadline_ms = params["deadline_ms"]
    smoke = params["mode"] == "smoke"
    results = {
        "schema": "dms-bench/1",
        "mode": params["mode"],
        "timestamp": params["timestamp"],
        "machine": machine(),
        "build": {"config": params["build"], "bin_dir": params["bin_dir"], **git_info()},
        "params": params,
        "engines": {},
        "ping": None,
        "targets": [],
        "breakage": report.breakage,
        "unexpected": report.unexpected,
    }
    targets = results["targets"]

    def target(name, engine, passed, detail, value=None, limit=None):
        targets.append({"target": name, "engine": engine, "pass": passed, "value": value, "limit": limit,
                        "detail": detail})

    for engine in engines:
        floor = report.read_floor(engine)
        e = {"model": params.get(f"model_{engine}"), "floor": floor, "server": {}, "runs": []}
        results["engines"][engine] = e
        loaded = report.read_status(f"{engine}-main-loaded.status")
        warm = report.read_status(f"{engine}-main-warm.status")
        end = report.read_status(f"{engine}-main-end.status")
        e["server"] = {
            "rss_loaded_mib": loaded and loaded["rss_mib"],
            "rss_after_warmup_mib": warm and warm["rss_mib"],
            "rss_after_load_mib": end and end["rss_mib"],
            "peak_rss_mib": end and end["peak_rss_mib"],
        }

        def run(c, server, before_name, expect):
            wrk = report.read_wrk(f"{engine}-c{c}.wrk.txt")
            after = report.read_stats(f"{engine}-c{c}.stats.json", model)
            before = report.read_stats(before_name, model)
            delta = stats_delta(before, after)
            record = {"concurrency": c, "server": server, "wrk": wrk, "statistics": after, "statistics_delta": delta}
            if after is not None:
                for key, value in expect.items():
                    if after[key] != value:
                        report.unexpected.append(
                            f"{engine} c={c}: /statistics says {key} {after[key]}, the server was started with {value}")
            e["runs"].append(record)
            return record

        batching = {"max_batch_size": params["max_batch_size"], "max_batch_delay_ms": params["delay_ms"],
                    "workers": params.get("workers", 1)}
        before = f"{engine}-main-warm.stats.json"
        for c in [int(x) for x in str(params["concurrency"]).split()]:
            record = run(c, "main", before, {**batching, "queue_size": params["queue_size"]})
            before = f"{engine}-c{c}.stats.json"
            wrk = record["wrk"]
            if wrk and wrk["errors"]:
                report.unexpected.append(f"{engine} c={c}: {wrk['errors']} errors (status {wrk['status']}, "
                                         f"socket {wrk['socket_errors']})")

        # The small-queue run with a deadline.
        record = run(deadline_c, "small_queue", f"{engine}-deadline-warm.stats.json",
                     {**batching, "queue_size": params["small_queue"]})
        record["queue_size"] = params["small_queue"]
        record["deadline_ms"] = deadline_ms
        before_rss = report.read_status(f"{engine}-deadline-warm.status")
        after_rss = report.read_status(f"{engine}-deadline-end.status")
        record["rss_before_mib"] = before_rss and before_rss["rss_mib"]
        record["rss_after_mib"] = after_rss and after_rss["rss_mib"]
        record["peak_rss_mib"] = after_rss and after_rss["peak_rss_mib"]
        wrk = record["wrk"]
        if wrk:
            s, sock = wrk["status"], wrk["socket_errors"]
            bad = (s["5xx_other"] + s["other"]) if s else wrk["non_2xx"]
            if bad or sum(sock.values()):
                report.unexpected.append(f"{engine} c={deadline_c} (queue {params['small_queue']}, deadline "
                                         f"{deadline_ms} ms): status {s}, socket errors {sock}")

        # --- targets of this engine ----------------------------------------------------------------
        runs = {r["concurrency"]: r for r in e["runs"] if r["server"] == "main"}
        if floor:
            b1 = next(r for r in floor["results"] if r["batch_size"] == 1)["ms_per_image"]
            best = floor["best"]["images_per_s"]
            r1 = runs.get(1)
            if r1 and r1["wrk"]:
                p50, limit = r1["wrk"]["p50_ms"], C1_LATENCY_FACTOR * b1
                target("c=1 latency", engine, p50 <= limit,
                       f"p50 {p50:.2f} ms vs {C1_LATENCY_FACTOR:.2f} x floor batch-1 {b1:.2f} ms = {limit:.2f} ms "
                       f"(ratio {p50 / b1:.2f})", p50, limit)
            else:
                target("c=1 latency", engine, None, "not measured")
            r16 = runs.get(16)
            if r16 and r16["wrk"]:
                rps, limit = r16["wrk"]["requests_per_s"], C16_THROUGHPUT_FACTOR * best
                target("c=16 throughput", engine, rps >= limit,
                       f"{rps:.1f} req/s vs {C16_THROUGHPUT_FACTOR:.2f} x floor best {best:.1f} images/s "
                       f"(batch {floor['best']['batch_size']}) = {limit:.1f} (ratio {rps / best:.2f})", rps, limit)
            else:
                target("c=16 throughput", engine, None, "not measured (no c=16 run)")
            rss, floor_rss = e["server"]["rss_loaded_mib"], floor["rss_after_load_mib"]
            if rss is not None:
                limit = floor_rss + RSS_OVERHEAD_MIB
                target("RSS with the model loaded", engine, rss <= limit,
                       f"server {rss:.1f} MiB vs floor {floor_rss:.1f} + {RSS_OVERHEAD_MIB:.0f} = {limit:.1f} MiB "
                       f"(difference {rss - floor_rss:+.1f} MiB)", rss, limit)
        delta = record["statistics_delta"] or {}
        if wrk:
            limit = deadline_ms + DEADLINE_SLACK_MS
            target(f"c={deadline_c} deadline: max latency", engine, wrk["max_ms"] <= limit and
                   wrk["socket_errors"]["timeout"] == 0,
                   f"max {wrk['max_ms']:.1f} ms vs deadline {deadline_ms} ms + {DEADLINE_SLACK_MS:.0f} "
                   f"(margin {deadline_ms - wrk['max_ms']:+.1f} ms to the deadline); "
                   f"{wrk.get('later_than_deadline')} answers later than the deadline, "
                   f"{wrk['socket_errors']['timeout']} wrk timeouts", wrk["max_ms"], limit)
            s = wrk["status"] or {}
            other = s.get("5xx_other", 0) + s.get("other", 0) + sum(wrk["socket_errors"].values())
            target(f"c={deadline_c} deadline: overflow as 503/504", engine, other == 0,
                   f"2xx {s.get('2xx')}, 503 {s.get('503')}, 504 {s.get('504')}, other 5xx {s.get('5xx_other')}, "
                   f"other {s.get('other')}, socket errors {sum(wrk['socket_errors'].values())}; server: "
                   f"rejected {delta.get('rejected')}, expired {delta.get('expired')}", other, 0)
        r16 = runs.get(16)
        if wrk and r16 and r16["wrk"] and r16["wrk"]["status"]:
            reference = r16["wrk"]["status"]["2xx"] / r16["wrk"]["duration_s"]
            goodput = (wrk["status"] or {}).get("2xx", 0) / wrk["duration_s"]
            record["goodput_per_s"] = goodput
            limit = GOODPUT_FACTOR * reference
            target(f"c={deadline_c} overload goodput", engine, goodput >= limit,
                   f"{goodput:.1f} answers/s with a prediction vs {GOODPUT_FACTOR:.2f} x c=16's {reference:.1f} = "
                   f"{limit:.1f} (ratio {goodput / reference:.2f})", goodput, limit)
        else:
            target(f"c={deadline_c} overload goodput", engine, None, "not measured (no c=16 run)")
        if record["rss_before_mib"] and record["rss_after_mib"]:
            change = record["rss_after_mib"] / record["rss_before_mib"] - 1
            target(f"c={deadline_c} deadline: RSS stable", engine, abs(change) <= RSS_CHANGE_LIMIT,
                   f"{record['rss_before_mib']:.1f} -> {record['rss_after_mib']:.1f} MiB ({100 * change:+.1f} %, "
                   f"limit {100 * RSS_CHANGE_LIMIT:.0f} %)", change, RSS_CHANGE_LIMIT)

    # --- /ping -------------------------------------------------------------------------------------
    dms, bare = report.read_wrk("ping-dms.wrk.txt"), report.read_wrk("ping-bare.wrk.txt")
    results["ping"] = {"dms": dms, "bare": bare, "concurrency": params["ping_concurrency"]}
    for name, w in (("DMS", dms), ("bare Hummingbird", bare)):
        if w and w["errors"]:
            report.unexpected.append(f"/ping on {name}: {w['errors']} errors")
    if dms and bare and bare["requests_per_s"]:
        ratio = dms["requests_per_s"] / bare["requests_per_s"]
        results["ping"]["ratio"] = round(ratio, 3)
        target("/ping throughput", None, ratio >= PING_FACTOR,
               f"DMS {dms['requests_per_s']:.0f} req/s vs bare Hummingbird {bare['requests_per_s']:.0f} "
               f"(ratio {ratio:.2f}, limit {PING_FACTOR:.2f})", ratio, PING_FACTOR)

    target("no unexpected errors", None, not report.unexpected,
           "; ".join(report.unexpected) if report.unexpected else "none")
    return results


def print_tables(results, out_path):
    params, m = results["params"], results["machine"]
    print()
    print(f"DMS benchmark, {results['mode']} mode, {results['build']['config']} build "
          f"(commit {(results['build']['commit'] or '?')[:10]}{', dirty' if results['build']['dirty'] else ''}), "
          f"{m['nproc']} cores {m['cpu_model']}, {m['memory_mib']} MiB")
    if results["mode"] == "smoke":
        print("smoke mode: a debug build and a tiny model, so the numbers mean nothing; targets are informational")

    print(f"\nengine floor (deep-model-bench floor, {params['floor_seconds']} s per batch size)")
    head = f"{'engine':<6} {'library':<13} {'threads':>7} {'b=1 ms/img':>10} {'best b':>6} {'best img/s':>10} {'RSS load':>8} {'peak':>6}"
    print(head)
    print("-" * len(head))
    for name, e in results["engines"].items():
        f = e["floor"]
        if not f:
            print(f"{name:<6} (missing)")
            continue
        b1 = next(r for r in f["results"] if r["batch_size"] == 1)
        print(f"{name:<6} {f['engine']:<13} {f['engine_threads']:>7} {b1['ms_per_image']:10.2f} "
              f"{f['best']['batch_size']:>6} {f['best']['images_per_s']:10.1f} {f['rss_after_load_mib']:8.0f} "
              f"{f['peak_rss_mib']:6.0f}")
        print(f"{'':<6} images/s by batch size: " + ", ".join(
            f"{r['batch_size']}: {r['images_per_s']:.1f}" for r in f["results"]))

    print(f"\nload (wrk, {params['duration']} s per run; batching max {params['max_batch_size']}, delay "
          f"{params['delay_ms']} ms; c={params['deadline_concurrency']} on a server with --queue-size "
          f"{params['small_queue']} and X-Request-Timeout-Ms {params['deadline_ms']})")
    head = (f"{'engine':<6} {'c':>3} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6} "
            f"{'503':>5} {'504':>5} {'batch':>5}  vs floor")
    print(head)
    print("-" * (len(head) + 14))
    for name, e in results["engines"].items():
        f = e["floor"]
        for r in e["runs"]:
            w, c = r["wrk"], r["concurrency"]
            if not w:
                print(f"{name:<6} {c:>3} (missing)")
                continue
            s = w["status"] or {}
            batch = (r["statistics_delta"] or {}).get("mean_batch_size")
            ratio = ""
            if f:
                if c == 1:
                    b1 = next(x for x in f["results"] if x["batch_size"] == 1)["ms_per_image"]
                    ratio = f"p50 {w['p50_ms'] / b1:.2f} x b=1"
                else:
                    ratio = f"{w['requests_per_s'] / f['best']['images_per_s']:.2f} x best"
            errors = w["errors"] - (s.get("503", 0) + s.get("504", 0) if r["server"] == "small_queue" else 0)
            print(f"{name:<6} {c:>3} {w['requests_per_s']:8.1f} {w['p50_ms']:8.1f} {w['p99_ms']:8.1f} "
                  f"{w['max_ms']:8.1f} {errors:>6} {fmt(s.get('503'), width=5)} {fmt(s.get('504'), width=5)} "
                  f"{fmt(batch, 2, 5)}  {ratio}")
    print("(errors: socket errors and non-2xx answers, not counting 503/504 in the small-queue run; "
          "batch: mean engine batch size from /statistics)")

    print("\nserver memory (MiB; RSS = VmRSS, peak = VmHWM)")
    head = (f"{'engine':<6} {'loaded':>7} {'warm':>7} {'end':>7} {'peak':>7} | {'floor load':>10} {'floor peak':>10} "
            f"{'loaded-floor':>12} | {'c=' + str(params['deadline_concurrency']) + ' before->after':>22}")
    print(head)
    print("-" * len(head))
    for name, e in results["engines"].items():
        s, f = e["server"], e["floor"] or {}
        d = next((r for r in e["runs"] if r["server"] == "small_queue"), {})
        diff = (s["rss_loaded_mib"] - f["rss_after_load_mib"]) if (s["rss_loaded_mib"] and f) else None
        change = (f"{d['rss_before_mib']:.0f} -> {d['rss_after_mib']:.0f}"
                  if d.get("rss_before_mib") and d.get("rss_after_mib") else "-")
        print(f"{name:<6} {fmt(s['rss_loaded_mib'], 0, 7)} {fmt(s['rss_after_warmup_mib'], 0, 7)} "
              f"{fmt(s['rss_after_load_mib'], 0, 7)} {fmt(s['peak_rss_mib'], 0, 7)} | "
              f"{fmt(f.get('rss_after_load_mib'), 0, 10)} {fmt(f.get('peak_rss_mib'), 0, 10)} "
              f"{(f'{diff:+.1f}' if diff is not None else '-'):>12} | {change:>22}")

    p = results["ping"] or {}
    if p.get("dms") and p.get("bare"):
        print(f"\n/ping (wrk c={p['concurrency']}, 2 threads): DMS {p['dms']['requests_per_s']:.0f} req/s "
              f"(p50 {p['dms']['p50_ms']:.2f} ms), bare Hummingbird {p['bare']['requests_per_s']:.0f} req/s "
              f"(p50 {p['bare']['p50_ms']:.2f} ms), ratio {p.get('ratio', float('nan')):.2f}")

    print("\ntargets")
    for t in results["targets"]:
        verdict = "SKIP" if t["pass"] is None else ("PASS" if t["pass"] else "FAIL")
        who = f"{t['engine']:<5}" if t["engine"] else " " * 5
        print(f"  {verdict}  {who} {t['target']}: {t['detail']}")
    if results["breakage"]:
        print("\nHARNESS PROBLEMS")
        for b in results["breakage"]:
            print(f"  {b}")
    print(f"\nresults: {out_path}")


def main(argv):
    if len(argv) >= 2 and argv[0] == "params":
        params = {}
        for item in argv[2:]:
            key, _, value = item.partition("=")
            for kind in (int, float):
                try:
                    value = kind(value)
                    break
                except ValueError:
                    pass
            params[key] = value
        with open(argv[1], "w") as f:
            json.dump(params, f, indent=1)
            f.write("\n")
        return 0
    if len(argv) != 3 or argv[0] != "report":
        print(__doc__, file=sys.stderr)
        return 2
    run_dir, out_path = argv[1], argv[2]
    report = Report(run_dir)
    params = report.read_json("params.json")
    if params is None:
        print("\n".join(report.breakage), file=sys.stderr)
        return 1
    try:
        with open(report.path("problems.txt")) as f:
            report.breakage.extend(line.strip() for line in f if line.strip())
    except FileNotFoundError:
        pass
    results = build(report, params)
    results["generated"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    with open(out_path, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    print_tables(results, out_path)
    if results["breakage"]:
        print("bench: the harness broke (see HARNESS PROBLEMS above)", file=sys.stderr)
        return 1
    if results["mode"] == "smoke" and results["unexpected"]:
        print("bench: unexpected answers in smoke mode: " + "; ".join(results["unexpected"]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
