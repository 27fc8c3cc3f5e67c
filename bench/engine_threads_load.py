#!/usr/bin/env python3
"""Closed-loop load on several models of one deep-model-server, with per-model latency and CPU.

    .runtime/venv/bin/python bench/engine_threads_load.py --url http://127.0.0.1:PORT \
        --models mx,onnx --image cat.jpg --concurrency 8 --duration 20 [--pid SERVER_PID] [--json]

C client threads, each with its own keep-alive HTTP/1.1 connection (http.client, no per-request
connection set-up), post the image as multipart `input0` to /MODEL/predict back to back for D
seconds. Each client goes through the models in turn (mx, onnx, mx, …); client i starts at model
i mod len(models), so at concurrency 8 about half the in-flight requests are on each model, and
at concurrency 1 the single client alternates. A request counts when it completes inside the
window; throughput is completed requests / D.

Reported per model and in total: requests/s, p50, p90, p99 and mean latency (ms), errors
(non-200 answers and socket errors; the connection is reopened after one). With --pid, the
server's CPU over the window (utime+stime of /proc/PID/stat, as % of one core and as CPU-ms per
request) and each thread's share (/proc/PID/task/*/stat: shows where CPU goes, e.g. OpenMP
workers spinning; thread names are inherited from the creating thread, so they repeat). Also the whole machine's busy % (/proc/stat) and the load generator's own CPU.
--json prints one JSON object instead of the text report (bench/engine-threads.sh collects it).
"""

import argparse
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
import uuid

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def multipart(field, filename, content, content_type="image/jpeg"):
    boundary = "dms-bench-" + uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def proc_cpu_ticks(path):
    """utime + stime (clock ticks) from a /proc/.../stat file (the comm field may hold spaces)."""
    with open(path) as f:
        text = f.read()
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12]), text[text.index("(") + 1 : text.rindex(")")]


def threads_cpu(pid):
    """{tid: (ticks, name)} for every thread of pid."""
    result = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            result[tid] = proc_cpu_ticks(f"/proc/{pid}/task/{tid}/stat")
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
    return result


def machine_ticks():
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values[:8]), idle  # user..steal (guest is already counted in user)


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


class Client(threading.Thread):
    def __init__(self, index, host, port, models, body, content_type, start, deadline, timeout):
        super().__init__(daemon=True)
        self.index, self.host, self.port, self.models = index, host, port, models
        self.body, self.content_type = body, content_type
        self.start_at, self.deadline, self.timeout = start, deadline, timeout
        self.records = []  # (model, latency seconds, ok, finished inside the window)
        self.error_samples = []

    def connect(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def run(self):
        connection = self.connect()
        headers = {"Content-Type": self.content_type, "Connection": "keep-alive"}
        turn = self.index % len(self.models)
        while time.monotonic() < self.start_at:
            time.sleep(0.001)
        while True:
            began = time.monotonic()
            if began >= self.deadline:
                break
            model = self.models[turn]
            turn = (turn + 1) % len(self.models)
            ok = False
            try:
                connection.request("POST", f"/{model}/predict", body=self.body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                ok = response.status == 200
                if not ok and len(self.error_samples) < 3:
                    self.error_samples.append(f"{model}: HTTP {response.status} {payload[:200]!r}")
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = self.connect()
            except (OSError, http.client.HTTPException) as error:
                if len(self.error_samples) < 3:
                    self.error_samples.append(f"{model}: {type(error).__name__}: {error}")
                connection.close()
                connection = self.connect()
            ended = time.monotonic()
            self.records.append((model, ended - began, ok, ended <= self.deadline))
        connection.close()


def run_load(url, models, body, content_type, concurrency, duration, pid=None, timeout=120):
    parsed = urllib.parse.urlsplit(url)
    start = time.monotonic() + 0.2
    deadline = start + duration
    clients = [
        Client(i, parsed.hostname, parsed.port, models, body, content_type, start, deadline, timeout)
        for i in range(concurrency)
    ]
    for client in clients:
        client.start()
    while time.monotonic() < start:
        time.sleep(0.001)
    own0, machine0 = os.times(), machine_ticks()
    server0 = proc_cpu_ticks(f"/proc/{pid}/stat")[0] if pid else None
    threads0 = threads_cpu(pid) if pid else None
    while time.monotonic() < deadline:
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    own1, machine1 = os.times(), machine_ticks()
    server1 = proc_cpu_ticks(f"/proc/{pid}/stat")[0] if pid else None
    threads1 = threads_cpu(pid) if pid else None
    for client in clients:
        client.join()

    result = {"concurrency": concurrency, "duration": duration, "models": {}}
    records = [r for c in clients for r in c.records]
    for name in list(models) + ["total"]:
        mine = [r for r in records if name == "total" or r[0] == name]
        done = sorted(r[1] for r in mine if r[2] and r[3])
        errors = sum(1 for r in mine if not r[2])
        result["models"][name] = {
            "requests": len(done),
            "rps": len(done) / duration,
            "p50_ms": percentile(done, 0.50) * 1e3,
            "p90_ms": percentile(done, 0.90) * 1e3,
            "p99_ms": percentile(done, 0.99) * 1e3,
            "mean_ms": (sum(done) / len(done) * 1e3) if done else float("nan"),
            "errors": errors,
        }
    result["error_samples"] = [e for c in clients for e in c.error_samples][:5]
    total_ticks, idle_ticks = machine1[0] - machine0[0], machine1[1] - machine0[1]
    result["machine_busy_pct"] = 100.0 * (total_ticks - idle_ticks) / total_ticks if total_ticks else float("nan")
    client_cpu = (own1.user - own0.user) + (own1.system - own0.system)
    result["client_cpu_pct"] = 100.0 * client_cpu / duration
    if pid:
        seconds = (server1 - server0) / CLOCK_TICKS
        completed = result["models"]["total"]["requests"]
        result["server_cpu_pct"] = 100.0 * seconds / duration
        result["server_cpu_ms_per_request"] = 1e3 * seconds / completed if completed else float("nan")
        per_thread = []
        for tid, (ticks, name) in threads1.items():
            delta = ticks - threads0.get(tid, (0, name))[0]
            if delta > 0:
                per_thread.append((100.0 * delta / CLOCK_TICKS / duration, int(tid), name))
        per_thread.sort(reverse=True)
        result["server_threads"] = len(threads1)
        result["server_busy_threads"] = [
            {"tid": tid, "name": name, "cpu_pct": round(pct, 1)} for pct, tid, name in per_thread
        ]
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="server base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--models", default="mx,onnx", help="comma-separated model names, posted in turn")
    parser.add_argument("--image", required=True, help="JPEG to post as input0")
    parser.add_argument("--concurrency", "-c", type=int, default=8)
    parser.add_argument("--duration", "-d", type=float, default=20.0, help="seconds of measured load")
    parser.add_argument("--pid", type=int, help="server process id, to report its CPU use")
    parser.add_argument("--label", default="", help="free text copied into the JSON result")
    parser.add_argument("--rep", type=int, default=0, help="repetition number, copied into the JSON result")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object (and a one-line summary on standard error)")
    args = parser.parse_args()

    models = [m for m in args.models.split(",") if m]
    with open(args.image, "rb") as f:
        body, content_type = multipart("input0", os.path.basename(args.image), f.read())
    result = run_load(args.url, models, body, content_type, args.concurrency, args.duration, args.pid)
    result["label"], result["rep"] = args.label, args.rep
    if args.json:
        print(json.dumps(result))
        m = result["models"]
        cpu = f", server CPU {result['server_cpu_pct']:.0f}%" if args.pid else ""
        print(f"   c={args.concurrency}: " + ", ".join(
            f"{name} {m[name]['rps']:.1f} req/s p50 {m[name]['p50_ms']:.0f} ms" for name in models)
            + f", errors {m['total']['errors']}{cpu}", file=sys.stderr)
        return 0
    print(f"concurrency {args.concurrency}, {args.duration:g} s, machine busy {result['machine_busy_pct']:.0f}%, "
          f"load generator CPU {result['client_cpu_pct']:.0f}% of a core")
    print(f"{'model':<8} {'req/s':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'errors':>6}")
    for name, m in result["models"].items():
        print(f"{name:<8} {m['rps']:7.1f} {m['p50_ms']:8.1f} {m['p90_ms']:8.1f} {m['p99_ms']:8.1f} "
              f"{m['mean_ms']:8.1f} {m['errors']:6d}")
    if args.pid:
        print(f"server CPU {result['server_cpu_pct']:.0f}% of a core, "
              f"{result['server_cpu_ms_per_request']:.1f} CPU-ms per request; "
              f"{result['server_threads']} threads, the busy ones (comm is inherited, so names repeat):")
        for t in result["server_busy_threads"]:
            print(f"  tid {t['tid']:<8} {t['name']:<20} {t['cpu_pct']:6.1f}%")
    for sample in result["error_samples"]:
        print("  error:", sample)
    return 0


if __name__ == "__main__":
    sys.exit(main())
