"""Soak run (docs/reliability.md): a server with an MXNet and an ONNX model under sustained mixed
traffic — valid and invalid requests over /predict, the v2 REST surface and gRPC — for a given
time, sampled every 10 s: requests and errors by kind, p50/p99 latency of the valid ones, RSS and
open file descriptors. Run by bench/soak.sh in .runtime/clients-venv (tritonclient for gRPC).

Fails (exit status 1) on any answer other than the one its kind expects (a 5xx, a wrong
prediction), on a server that dies, or when RSS or descriptors grow from the first sample after
the warm-up to the last by more than the allowed amount (a leak).
"""

import argparse
import json
import math
import pathlib
import random
import re
import statistics
import subprocess
import threading
import time
from collections import Counter, defaultdict

import numpy as np
import requests
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SEVEN = (EXAMPLES / "samples" / "digit-7-7.png").read_bytes()
NINE = (EXAMPLES / "samples" / "digit-9-9.png").read_bytes()


def multipart(image):
    return {"files": {"input0": ("digit.png", image)}}


class Traffic:
    """The request kinds, each with how often it is sent and what it must get."""

    def __init__(self, url, grpc_address):
        self.url = url
        self.grpc_address = grpc_address
        self.local = threading.local()

    def grpc(self):
        if not hasattr(self.local, "grpc"):
            self.local.grpc = grpcclient.InferenceServerClient(self.grpc_address)
        return self.local.grpc

    def post(self, path, **kwargs):
        return requests.post(f"{self.url}{path}", timeout=60, **kwargs)

    # Each kind returns (ok, status) where ok says whether the answer is the expected one.
    def predict_mxnet(self):
        response = self.post("/digits-mlp/predict", **multipart(SEVEN))
        return response.status_code == 200 and response.json()["prediction"][0][0]["class"] == "7", response.status_code

    def predict_onnx(self):
        response = self.post("/digits-cnn-onnx/predict", **multipart(NINE))
        return response.status_code == 200 and response.json()["prediction"][0][0]["class"] == "9", response.status_code

    def v2_rest_bytes(self):
        # The image as one BYTES item in the binary tensor extension, as tritonclient sends it.
        header = json.dumps({"inputs": [{"name": "data", "shape": [1], "datatype": "BYTES", "parameters": {"binary_data_size": 4 + len(SEVEN)}}]}).encode()
        response = self.post(
            "/v2/models/digits-mlp/infer", data=header + len(SEVEN).to_bytes(4, "little") + SEVEN,
            headers={"Inference-Header-Content-Length": str(len(header))})
        return response.status_code == 200, response.status_code

    def grpc_tensor(self):
        pixels = np.zeros((1, 1, 8, 8), dtype=np.float32)
        infer_input = grpcclient.InferInput("data", [1, 1, 8, 8], "FP32")
        infer_input.set_data_from_numpy(pixels)
        result = self.grpc().infer("digits-cnn-onnx", [infer_input])
        return result.as_numpy(result.get_response().outputs[0].name).shape[0] == 1, 200

    def bad_image(self):
        response = self.post("/digits-mlp/predict", files={"input0": ("x.png", b"\x89PNG\r\n\x1a\nbroken")})
        return response.status_code == 400, response.status_code

    def unknown_model(self):
        response = self.post("/nowhere/predict", **multipart(SEVEN))
        return response.status_code == 404, response.status_code

    def wrong_shape(self):
        response = self.post("/v2/models/digits-cnn-onnx/infer", json={"inputs": [{"name": "data", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]})
        return response.status_code == 400, response.status_code

    def too_large(self):
        response = self.post("/digits-mlp/predict", data=b"\0" * (2 << 20), headers={"Content-Type": "image/png"})
        return response.status_code == 413, response.status_code

    def malformed_multipart(self):
        response = self.post("/digits-mlp/predict", data=b"--x\r\nnonsense", headers={"Content-Type": "multipart/form-data; boundary=x"})
        return response.status_code == 400, response.status_code

    def grpc_invalid(self):
        infer_input = grpcclient.InferInput("data", [1, 3], "FP32")
        infer_input.set_data_from_numpy(np.zeros((1, 3), dtype=np.float32))
        try:
            self.grpc().infer("digits-cnn-onnx", [infer_input])
        except InferenceServerException as error:
            return "INVALID_ARGUMENT" in str(error.status()), 400
        return False, 200

    KINDS = {
        # kind: (weight, valid)
        "predict_mxnet": (30, True),
        "predict_onnx": (20, True),
        "v2_rest_bytes": (15, True),
        "grpc_tensor": (15, True),
        "bad_image": (5, False),
        "unknown_model": (4, False),
        "wrong_shape": (4, False),
        "too_large": (2, False),
        "malformed_multipart": (3, False),
        "grpc_invalid": (2, False),
    }


def process_sample(pid):
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) // 1024
    return rss, len(list(pathlib.Path(f"/proc/{pid}/fd").iterdir()))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--seconds", type=int, default=1800)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--interval", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=60, help="seconds before the growth baseline is taken")
    parser.add_argument("--max-rss-growth-mb", type=float, default=32)
    parser.add_argument("--max-fd-growth", type=int, default=16)
    parser.add_argument("--work", default="/tmp/dms-soak")
    arguments = parser.parse_args()

    work = pathlib.Path(arguments.work)
    work.mkdir(parents=True, exist_ok=True)
    log = open(work / "server.out", "w")
    server = subprocess.Popen(
        [arguments.binary, "--port", "0", "--grpc-port", "0", "--no-management", "--model-store", str(work / "store"),
         "--log-file", str(work / "dms_app.log"), "--max-request-size", str(1 << 20), "--queue-size", "64",
         "--models", f"digits-mlp={EXAMPLES / 'digits-mlp.model'}", f"digits-cnn-onnx={EXAMPLES / 'digits-cnn-onnx'}"],
        stdout=subprocess.PIPE, stderr=log, text=True)
    url = grpc_address = None
    for line in server.stdout:
        if match := re.match(r"^listening on (http://\S+)", line):
            url = match.group(1)
        if match := re.match(r"^gRPC listening on (\S+)", line):
            grpc_address = match.group(1)
        if url and grpc_address:
            break
    threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
    if not (url and grpc_address):
        raise SystemExit(f"the server did not start; see {work / 'server.out'}")

    traffic = Traffic(url, grpc_address)
    kinds = list(Traffic.KINDS)
    weights = [Traffic.KINDS[kind][0] for kind in kinds]
    lock = threading.Lock()
    window = defaultdict(list)  # kind -> latencies (s) of expected answers this interval
    counts = Counter()  # (kind, "ok" | "unexpected:<status>" | "exception") over the run
    interval_counts = Counter()
    stop = threading.Event()

    def worker(seed):
        rng = random.Random(seed)
        while not stop.is_set():
            kind = rng.choices(kinds, weights)[0]
            started = time.monotonic()
            try:
                ok, status = getattr(traffic, kind)()
                outcome = "ok" if ok else f"unexpected:{status}"
            except Exception as error:  # noqa: BLE001 (any failure is counted, the run goes on)
                outcome = f"exception:{type(error).__name__}"
            elapsed = time.monotonic() - started
            with lock:
                counts[(kind, outcome)] += 1
                interval_counts[outcome == "ok"] += 1
                if outcome == "ok" and Traffic.KINDS[kind][1]:
                    window[kind].append(elapsed)

    threads = [threading.Thread(target=worker, args=(index,), daemon=True) for index in range(arguments.concurrency)]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    samples = []
    print("| t (s) | requests | unexpected | req/s | p50 ms | p99 ms | RSS MiB | fds |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    while time.monotonic() - started < arguments.seconds and server.poll() is None:
        time.sleep(arguments.interval)
        with lock:
            latencies = sorted(x for values in window.values() for x in values)
            good, bad = interval_counts[True], interval_counts[False]
            window.clear()
            interval_counts.clear()
        try:
            rss, fds = process_sample(server.pid)
        except (FileNotFoundError, ProcessLookupError):
            break  # the server died: reported below
        t = round(time.monotonic() - started)
        p50 = statistics.median(latencies) * 1000 if latencies else 0
        p99 = latencies[math.ceil(len(latencies) * 0.99) - 1] * 1000 if latencies else 0
        samples.append({"t": t, "requests": good + bad, "unexpected": bad, "p50_ms": p50, "p99_ms": p99, "rss_mib": rss, "fds": fds})
        print(f"| {t} | {good + bad} | {bad} | {(good + bad) / arguments.interval:.1f} | {p50:.1f} | {p99:.1f} | {rss} | {fds} |", flush=True)
    stop.set()
    for thread in threads:
        thread.join(70)
    died = server.poll() is not None
    if not died:
        server.terminate()
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()

    total = sum(counts.values())
    unexpected = {f"{kind} {outcome}": n for (kind, outcome), n in sorted(counts.items()) if outcome != "ok"}
    print(f"\nrequests: {total}; by kind: " + ", ".join(f"{kind} {sum(n for (k, o), n in counts.items() if k == kind)}" for kind in kinds))
    print(f"unexpected answers: {unexpected or 'none'}")
    problems = []
    if died:
        problems.append(f"the server died (status {server.returncode}); see {work}")
    if unexpected:
        problems.append(f"unexpected answers: {unexpected}")
    steady = [s for s in samples if s["t"] >= arguments.warmup]
    if len(steady) >= 2:
        rss_growth = steady[-1]["rss_mib"] - steady[0]["rss_mib"]
        fd_growth = steady[-1]["fds"] - steady[0]["fds"]
        print(f"after the {arguments.warmup} s warm-up: RSS {steady[0]['rss_mib']} → {steady[-1]['rss_mib']} MiB ({rss_growth:+d}), "
              f"descriptors {steady[0]['fds']} → {steady[-1]['fds']} ({fd_growth:+d})")
        if rss_growth > arguments.max_rss_growth_mb:
            problems.append(f"RSS grew by {rss_growth} MiB (limit {arguments.max_rss_growth_mb})")
        if fd_growth > arguments.max_fd_growth:
            problems.append(f"descriptors grew by {fd_growth} (limit {arguments.max_fd_growth})")
    (work / "soak.json").write_text(json.dumps({"samples": samples, "counts": {f"{k} {o}": n for (k, o), n in counts.items()}}, indent=1))
    for problem in problems:
        print(f"PROBLEM: {problem}")
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
