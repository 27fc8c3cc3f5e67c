"""Closed-loop latency of one model through the Open Inference Protocol's own Python clients:
tritonclient.http (REST, binary tensor data) against tritonclient.grpc (gRPC), the same image as a
BYTES input, in alternating rounds. Run by bench/clients.sh in .runtime/clients-venv.

    client_latency.py HTTP_ADDRESS GRPC_ADDRESS MODEL INPUT IMAGE ROUNDS SECONDS WARMUP "CONCURRENCY..."

Each side at each concurrency: C threads, each with its own client, send one request after the
other for SECONDS; the report gives per side the median over the rounds of req/s, p50 and p99 (ms),
and gRPC's change against REST. Both clients are Python, so their own cost is in the figures, the
same for both sides.
"""

import json
import statistics
import sys
import threading
import time

import numpy as np
import tritonclient.grpc as triton_grpc
import tritonclient.http as triton_http


def make_call(side, address, model, input_name, image):
    module = triton_http if side == "rest" else triton_grpc
    client = module.InferenceServerClient(address)
    tensor = module.InferInput(input_name, [1], "BYTES")
    tensor.set_data_from_numpy(np.array([image], dtype=np.object_))

    def call():
        result = client.infer(model, [tensor])
        assert result.as_numpy(result.get_response()["outputs"][0]["name"] if side == "rest" else result.get_response().outputs[0].name) is not None

    return call


def run(side, address, model, input_name, image, concurrency, seconds):
    latencies, errors, stop_at = [], [], time.monotonic() + seconds
    lock = threading.Lock()

    def worker():
        call = make_call(side, address, model, input_name, image)
        mine = []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                call()
            except Exception as error:  # counted, not fatal: the report shows them
                errors.append(repr(error))
                continue
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    latencies.sort()
    percentile = lambda q: 1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")  # noqa: E731
    return {"requests_per_s": len(latencies) / elapsed, "p50_ms": percentile(0.5), "p99_ms": percentile(0.99), "errors": len(errors)}


def main(http_address, grpc_address, model, input_name, image_path, rounds, seconds, warmup, concurrency):
    image = open(image_path, "rb").read()
    addresses = {"rest": http_address, "grpc": grpc_address}
    levels = [int(c) for c in concurrency.split()]
    results = {(side, c): [] for side in addresses for c in levels}
    for round_ in range(1, int(rounds) + 1):
        order = ["rest", "grpc"] if round_ % 2 else ["grpc", "rest"]
        for side in order:
            run(side, addresses[side], model, input_name, image, 1, float(warmup))
        for c in levels:
            for side in order:
                summary = run(side, addresses[side], model, input_name, image, c, float(seconds))
                print(json.dumps({"round": round_, "side": side, "c": c, **summary}), file=sys.stderr, flush=True)
                results[(side, c)].append(summary)
    print(f"{'c':>3} {'side':>6} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}   (median of {rounds} rounds)")
    for c in levels:
        medians = {}
        for side in ("rest", "grpc"):
            runs = results[(side, c)]
            medians[side] = {key: statistics.median(r[key] for r in runs) for key in ("requests_per_s", "p50_ms", "p99_ms")}
            failed = sum(r["errors"] for r in runs)
            m = medians[side]
            print(f"{c:>3} {side:>6} {m['requests_per_s']:>9.1f} {m['p50_ms']:>8.3f} {m['p99_ms']:>8.3f}" + (f"   {failed} failed" if failed else ""))
        change = lambda key: 100 * (medians["grpc"][key] / medians["rest"][key] - 1)  # noqa: E731
        print(f"{c:>3} {'B/A':>6} {change('requests_per_s'):>+8.1f}% {change('p50_ms'):>+7.1f}% {change('p99_ms'):>+7.1f}%")


if __name__ == "__main__":
    main(*sys.argv[1:10])
