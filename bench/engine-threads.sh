#!/usr/bin/env bash
# Does MXNet's OpenMP spin-waiting hurt when MXNet and ONNX Runtime models share one server?
#
#   bench/engine-threads.sh [WORK]        (default WORK: /tmp/dms-engine-threads)
#
# Serves a ResNet-18 twice from one deep-model-server process, as MXNet (`mx`) and as its ONNX
# export (`onnx`), and loads both at once (bench/engine_threads_load.py: C closed-loop clients,
# each alternating mx/onnx) for each OpenMP wait setting in CONFIGS:
#   unset    OMP_WAIT_POLICY and GOMP_SPINCOUNT unset: the server's default, PASSIVE since the
#            measurement below (before it, libgomp's default: spin ~300k rounds, then sleep;
#            spin300000 reproduces that, GOMP_SPINCOUNT overriding the wait policy)
#   PASSIVE  OMP_WAIT_POLICY=PASSIVE  (libgomp: idle threads sleep at once)
#   ACTIVE   OMP_WAIT_POLICY=ACTIVE   (libgomp: idle threads spin without limit)
#   spinN    GOMP_SPINCOUNT=N, OMP_WAIT_POLICY unset (spin0: sleep at once, as PASSIVE)
# The server sets OMP_NUM_THREADS=cores, MXNET_ENGINE_TYPE=NaiveEngine and OMP_WAIT_POLICY=PASSIVE
# itself (keeping values given in the environment), and ONNX
# Runtime's intra-op threads never spin (session.intra_op.allow_spinning=0).
#
# Each server: start, wait for "listening on", warm up (WARMUP seconds at concurrency 2), then
# DURATION seconds at each concurrency in CONCURRENCY, then SIGTERM. Every configuration runs
# REPEATS times; the order of the configurations is reversed on every other repetition so that
# drift does not favour one. Results: WORK/results.jsonl (one JSON object per run) and a table.
#
# Environment knobs: CONFIGS="unset PASSIVE ACTIVE" REPEATS=2 DURATION=20 CONCURRENCY="1 8"
# WARMUP=5; DMS_SERVER_BINARY and DMS_EXPORT_BINARY replace the debug build's binaries.
# Run it alone on the machine: another CPU user ruins the numbers.
#
# Models and image: bench/make-models.sh (done once, skipped when WORK already holds them):
# WORK/resnet18.model and WORK/resnet18-onnx.model (ResNet-18, random weights, and its ONNX
# export, packed with the debug build's deep-model-export) and WORK/cat.jpg.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${1:-/tmp/dms-engine-threads}"
CONFIGS="${CONFIGS:-unset PASSIVE ACTIVE}"
REPEATS="${REPEATS:-2}"
DURATION="${DURATION:-20}"
CONCURRENCY="${CONCURRENCY:-1 8}"
WARMUP="${WARMUP:-5}"
PY="$ROOT/.runtime/venv/bin/python"
SERVER="${DMS_SERVER_BINARY:-$ROOT/.build/debug/deep-model-server}"
EXPORT="${DMS_EXPORT_BINARY:-$ROOT/.build/debug/deep-model-export}"
LOAD="$ROOT/bench/engine_threads_load.py"
RESULTS="$WORK/results.jsonl"

mkdir -p "$WORK"
cd "$ROOT"

# --- models and image ------------------------------------------------------------------------
"$ROOT/bench/make-models.sh" "$WORK" "$EXPORT"

# --- one server per configuration --------------------------------------------------------------
config_env() {  # the environment a configuration adds
    case "$1" in
        unset) echo "" ;;
        PASSIVE | ACTIVE) echo "OMP_WAIT_POLICY=$1" ;;
        spin[0-9]*) echo "GOMP_SPINCOUNT=${1#spin}" ;;
        *) echo "unknown configuration $1" >&2; exit 2 ;;
    esac
}

SERVER_PID=""
stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
trap stop_server EXIT

run_config() {  # CONFIG REPETITION
    local config="$1" rep="$2" extra out port
    extra="$(config_env "$config")"
    out="$WORK/server-$config-$rep"
    rm -rf "$WORK/store"
    # shellcheck disable=SC2086  # $extra is empty or one NAME=VALUE word
    env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u OMP_NUM_THREADS -u MXNET_ENGINE_TYPE $extra \
        "$SERVER" --models mx="$WORK/resnet18.model" onnx="$WORK/resnet18-onnx.model" --port 0 \
        --model-store "$WORK/store" --log-file "$WORK/dms.log" >"$out.out" 2>"$out.err" &
    SERVER_PID=$!
    for _ in $(seq 240); do
        grep -q '^listening on ' "$out.out" 2>/dev/null && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$out.err" >&2; echo "server exited" >&2; exit 1; }
        sleep 0.5
    done
    port="$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$out.out")"
    [ -n "$port" ] || { echo "server did not start" >&2; exit 1; }
    local omp
    omp="$(tr '\0' '\n' <"/proc/$SERVER_PID/environ" | grep -E '^(OMP_|GOMP_)' | tr '\n' ' ' || true)"
    echo "== $config (repetition $rep): pid $SERVER_PID, port $port, env at start: ${omp:-none}" >&2
    "$PY" "$LOAD" --url "http://127.0.0.1:$port" --image "$WORK/cat.jpg" -c 2 -d "$WARMUP" --json >/dev/null 2>&1
    for c in $CONCURRENCY; do
        "$PY" "$LOAD" --url "http://127.0.0.1:$port" --image "$WORK/cat.jpg" -c "$c" -d "$DURATION" \
            --pid "$SERVER_PID" --json --label "$config" --rep "$rep" >>"$RESULTS"
    done
    stop_server
}

: >"$RESULTS"
echo "$(nproc) cores; configurations: $CONFIGS; $REPEATS repetitions; ${DURATION}s at concurrency $CONCURRENCY" >&2
for rep in $(seq "$REPEATS"); do
    order="$CONFIGS"
    if [ $((rep % 2)) -eq 0 ]; then order="$(echo "$CONFIGS" | tr ' ' '\n' | tac | tr '\n' ' ')"; fi
    for config in $order; do
        run_config "$config" "$rep"
    done
done

# --- table ---------------------------------------------------------------------------------------
"$PY" - "$RESULTS" "$CONFIGS" <<'EOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
configs = sys.argv[2].split()
head = (f"{'config':<8} {'c':>2} {'rep':>3} | {'mx r/s':>6} {'p50':>5} {'p99':>5} | {'onnx r/s':>8} {'p50':>5} {'p99':>5} |"
        f" {'total r/s':>9} {'err':>3} | {'srv CPU%':>8} {'CPU-ms/req':>10} {'machine%':>8}")
print("\nper run (latencies in ms; CPU% of one core; machine% = both cores busy)")
print(head)
print("-" * len(head))
key = lambda r: (r["concurrency"], configs.index(r["label"]), r["rep"])
for r in sorted(rows, key=key):
    m = r["models"]
    print(f"{r['label']:<8} {r['concurrency']:>2} {r['rep']:>3} | {m['mx']['rps']:6.2f} {m['mx']['p50_ms']:5.0f} {m['mx']['p99_ms']:5.0f} |"
          f" {m['onnx']['rps']:8.2f} {m['onnx']['p50_ms']:5.0f} {m['onnx']['p99_ms']:5.0f} | {m['total']['rps']:9.2f} {m['total']['errors']:3d} |"
          f" {r['server_cpu_pct']:8.0f} {r['server_cpu_ms_per_request']:10.1f} {r['machine_busy_pct']:8.0f}")
print("\nmean over repetitions (min..max of total req/s)")
head2 = f"{'config':<8} {'c':>2} | {'mx r/s':>6} {'mx p50':>6} | {'onnx r/s':>8} {'onnx p50':>8} | {'total r/s':>9} {'(min..max)':>13} | {'CPU-ms/req':>10}"
print(head2)
print("-" * len(head2))
for c in sorted({r["concurrency"] for r in rows}):
    for config in configs:
        mine = [r for r in rows if r["concurrency"] == c and r["label"] == config]
        if not mine:
            continue
        mean = lambda f: statistics.mean(f(r) for r in mine)
        totals = [r["models"]["total"]["rps"] for r in mine]
        print(f"{config:<8} {c:>2} | {mean(lambda r: r['models']['mx']['rps']):6.2f} {mean(lambda r: r['models']['mx']['p50_ms']):6.0f} |"
              f" {mean(lambda r: r['models']['onnx']['rps']):8.2f} {mean(lambda r: r['models']['onnx']['p50_ms']):8.0f} |"
              f" {statistics.mean(totals):9.2f} {f'({min(totals):.2f}..{max(totals):.2f})':>13} |"
              f" {mean(lambda r: r['server_cpu_ms_per_request']):10.1f}")
EOF
