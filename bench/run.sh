#!/usr/bin/env bash
# Throughput and latency of deep-model-server against the engine floor, with PASS/FAIL targets.
#
#   bench/run.sh            full run: release build, ResNet-18 on MXNet and ONNX Runtime (~7 min + the build)
#   bench/run.sh --smoke    CI check of the harness itself: debug build (not rebuilt), the tiny
#                           examples/digits-mlp model, 2 s runs (well under 2 minutes)
#
# Run it alone on the machine: another CPU user ruins the numbers. Steps:
#   1. wrk (apt-get install wrk when missing) and scripts/bootstrap.sh (venv, engine libraries).
#   2. Full: `swift build -c release`, binaries from `swift build -c release --show-bin-path`.
#      Smoke: the debug binaries in `swift build --show-bin-path`, without building.
#   3. Models. Full: bench/make-models.sh WORK (ResNet-18 with random weights, its ONNX twin,
#      cat.jpg). Smoke: examples/digits-mlp.model and examples/digits-mlp-onnx packed into
#      WORK/digits-mlp-onnx.model, posting examples/samples/digit-7-7-64.jpg.
#   4. For each engine (mx, onnx):
#      - the engine floor: `deep-model-bench floor` (the engine alone, no HTTP) at BATCH_SIZES;
#      - a server with that one model (--max-batch-size MAX_BATCH_SIZE --max-batch-delay DELAY_MS
#        --queue-size QUEUE_SIZE), warmed up WARMUP s at concurrency 2, then wrk for DURATION s at
#        each concurrency of CONCURRENCY (bench/wrk/predict.lua: multipart field FIELD); GET
#        /statistics after each run (the engine's batch sizes), VmRSS/VmHWM from /proc;
#      - a second server with --queue-size SMALL_QUEUE, warmed up, then wrk at
#        DEADLINE_CONCURRENCY with `X-Request-Timeout-Ms: DEADLINE_MS` on every request: overflow
#        must be answered 503/504, nothing later than the deadline, RSS stable.
#   5. GET /ping at PING_CONCURRENCY on a DMS server and on `deep-model-bench ping-server` (a bare
#      Hummingbird app giving the same answer).
#   6. bench/run_report.py: a table, PASS/FAIL per target, and WORK/results-TIMESTAMP.json (the
#      numbers, the settings, and the machine: nproc, CPU, memory, kernel, git commit, build).
#      Raw outputs (wrk, server logs, /statistics) stay in WORK/run-TIMESTAMP/.
#
# Targets (see bench/run_report.py): c=1 p50 <= 1.10 x floor batch-1 ms/image; c=16 req/s >= 0.90 x
# floor best images/s; at c=64 with the small queue and deadline: max latency <= deadline + 50 ms,
# only 2xx/503/504 answers, RSS after within 10 % of before, goodput (2xx/s) >= 0.90 x the
# c=16 2xx/s; /ping >= 0.8 x bare Hummingbird;
# server RSS with the model loaded <= floor RSS after load + 64 MiB.
#
# Exit status: 0 when the run completed (in full mode even when a target fails: read the PASS/FAIL
# lines); non-zero when the harness broke (wrk missing, a server that died or did not start, a
# missing or malformed result) and, in smoke mode, on any answer but 2xx (503/504 allowed in the
# small-queue run). Smoke-mode target results are printed but never fatal.
#
# Environment knobs (full / smoke defaults):
#   WORK=/tmp/dms-bench (/tmp/dms-bench-smoke)  models, store, raw outputs and results
#   DURATION=20 (2)  seconds per load run      FLOOR_SECONDS=10 (1)  seconds per floor batch size
#   WARMUP=5 (1)     seconds at c=2 first      CONCURRENCY="1 4 16" ("1 4")
#   DELAY_MS=2  MAX_BATCH_SIZE=8  QUEUE_SIZE=100  SMALL_QUEUE=8  DEADLINE_MS=1000
#   WORKERS=1 (server --workers; the floor then runs with the server's engine threads, cores/WORKERS)
#   DEADLINE_CONCURRENCY=64  PING_CONCURRENCY=16  BATCH_SIZES=1,2,4,8,16  WRK_TIMEOUT=30s  FIELD=data
#   BIN_DIR             use the binaries in this folder instead of building (or the debug path)
#   DMS_SERVER_BINARY, DMS_EXPORT_BINARY, DMS_BENCH_BINARY   one binary each (default BIN_DIR/...)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.runtime/venv/bin/python"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
MODE=full
for arg in "$@"; do
    case "$arg" in
        --smoke) MODE=smoke ;;
        -h | --help) usage; exit 0 ;;
        *) echo "bench: unknown argument $arg" >&2; usage >&2; exit 2 ;;
    esac
done

if [ "$MODE" = smoke ]; then
    WORK="${WORK:-/tmp/dms-bench-smoke}" DURATION="${DURATION:-2}" FLOOR_SECONDS="${FLOOR_SECONDS:-1}"
    WARMUP="${WARMUP:-1}" CONCURRENCY="${CONCURRENCY:-1 4}"
else
    WORK="${WORK:-/tmp/dms-bench}" DURATION="${DURATION:-20}" FLOOR_SECONDS="${FLOOR_SECONDS:-10}"
    WARMUP="${WARMUP:-5}" CONCURRENCY="${CONCURRENCY:-1 4 16}"
fi
DELAY_MS="${DELAY_MS:-2}"
MAX_BATCH_SIZE="${MAX_BATCH_SIZE:-8}"
WORKERS="${WORKERS:-1}"
ENGINE_THREADS=$(( $(nproc) / WORKERS > 0 ? $(nproc) / WORKERS : 1 ))
QUEUE_SIZE="${QUEUE_SIZE:-100}"
SMALL_QUEUE="${SMALL_QUEUE:-8}"
DEADLINE_MS="${DEADLINE_MS:-1000}"
DEADLINE_CONCURRENCY="${DEADLINE_CONCURRENCY:-64}"
PING_CONCURRENCY="${PING_CONCURRENCY:-16}"
BATCH_SIZES="${BATCH_SIZES:-1,2,4,8,16}"
WRK_TIMEOUT="${WRK_TIMEOUT:-30s}"
FIELD="${FIELD:-data}"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

cd "$ROOT"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
STAMP="$(date +%Y%m%d-%H%M%S)"
RUN="$WORK/run-$STAMP"
RESULTS="$WORK/results-$STAMP.json"
mkdir -p "$RUN"


# --- 1. wrk and the runtime --------------------------------------------------------------------
need_tools
"$ROOT/scripts/bootstrap.sh" >&2

# --- 2. binaries -------------------------------------------------------------------------------
if [ "$MODE" = smoke ]; then
    BUILD=debug
    BIN_DIR="${BIN_DIR:-$(swift build --show-bin-path)}"
elif [ -n "${BIN_DIR:-}" ]; then
    BUILD="prebuilt ($BIN_DIR)"
    log "using the binaries in BIN_DIR=$BIN_DIR (not building)"
else
    BUILD=release
    log "swift build -c release --static-swift-stdlib"
    swift build -c release --static-swift-stdlib >&2
    BIN_DIR="$(swift build -c release --show-bin-path)"
fi
SERVER_BIN="${DMS_SERVER_BINARY:-$BIN_DIR/deep-model-server}"
EXPORT_BIN="${DMS_EXPORT_BINARY:-$BIN_DIR/deep-model-export}"
BENCH_BIN="${DMS_BENCH_BINARY:-$BIN_DIR/deep-model-bench}"
for bin in "$SERVER_BIN" "$EXPORT_BIN" "$BENCH_BIN"; do
    [ -x "$bin" ] || die "$bin is missing or not executable ($BUILD build; build it first)"
done

# --- 3. models -----------------------------------------------------------------------------------
ENGINES="mx onnx"
if [ "$MODE" = smoke ]; then
    MODEL_NAME=digits-mlp
    MODEL_mx="$ROOT/examples/digits-mlp.model"
    MODEL_onnx="$WORK/digits-mlp-onnx.model"
    IMAGE="$ROOT/examples/samples/digit-7-7-64.jpg"
    "$EXPORT_BIN" --model-name digits-mlp-onnx --model-path "$ROOT/examples/digits-mlp-onnx" \
        --output "$WORK" --force >"$RUN/export.log" 2>&1 || { cat "$RUN/export.log" >&2; die "deep-model-export failed"; }
else
    MODEL_NAME=resnet18
    "$ROOT/bench/make-models.sh" "$WORK" "$EXPORT_BIN" >&2
    MODEL_mx="$WORK/resnet18.model"
    MODEL_onnx="$WORK/resnet18-onnx.model"
    IMAGE="$WORK/cat.jpg"
fi

"$PY" "$ROOT/bench/run_report.py" params "$RUN/params.json" mode="$MODE" timestamp="$STAMP" build="$BUILD" \
    bin_dir="$BIN_DIR" server_binary="$SERVER_BIN" bench_binary="$BENCH_BIN" engines="$ENGINES" \
    model_name="$MODEL_NAME" model_mx="$MODEL_mx" model_onnx="$MODEL_onnx" image="$IMAGE" field="$FIELD" \
    duration="$DURATION" floor_seconds="$FLOOR_SECONDS" warmup="$WARMUP" concurrency="$CONCURRENCY" \
    batch_sizes="$BATCH_SIZES" delay_ms="$DELAY_MS" max_batch_size="$MAX_BATCH_SIZE" queue_size="$QUEUE_SIZE" \
    workers="$WORKERS" engine_threads="$ENGINE_THREADS" \
    small_queue="$SMALL_QUEUE" deadline_ms="$DEADLINE_MS" deadline_concurrency="$DEADLINE_CONCURRENCY" \
    ping_concurrency="$PING_CONCURRENCY" wrk_timeout="$WRK_TIMEOUT"

PREDICT="$ROOT/bench/wrk/predict.lua"
PING="$ROOT/bench/wrk/ping.lua"
serve() {  # LABEL MODEL QUEUE_SIZE: a server with one model and the batching settings
    start "$1" "$SERVER_BIN" --models "$MODEL_NAME=$2" --port 0 --model-store "$WORK/store" \
        --log-file "$RUN/$1.log" --max-batch-size "$MAX_BATCH_SIZE" --max-batch-delay "$DELAY_MS" --queue-size "$3" --workers "$WORKERS"
}
warm_up() {  # LABEL PORT
    load "$1-warmup" 2 "$WARMUP" "$PREDICT" "http://127.0.0.1:$2/$MODEL_NAME/predict" "$IMAGE" 0 "$FIELD"
}

log "$MODE run: $(nproc) cores, $BUILD build, engines $ENGINES, raw outputs in $RUN"

# --- 4. per engine: floor, load, small queue with a deadline -----------------------------------
for engine in $ENGINES; do
    model_var="MODEL_$engine"
    model="${!model_var}"
    log "== $engine: floor (deep-model-bench floor, batch sizes $BATCH_SIZES, ${FLOOR_SECONDS} s each)"
    { "$BENCH_BIN" floor --model "$model" --image "$IMAGE" --batch-sizes "$BATCH_SIZES" --seconds "$FLOOR_SECONDS" --max-batch-size "$MAX_BATCH_SIZE" \
        --engine-threads "$ENGINE_THREADS" \
        2>&1 1>&3 3>&- | tee "$RUN/floor-$engine.err" >&2; } 3>"$RUN/floor-$engine.json" ||
        die "deep-model-bench floor failed ($engine)"

    log "== $engine: server, concurrency $CONCURRENCY"
    label="$engine-main"
    serve "$label" "$model" "$QUEUE_SIZE"
    vm_status "$PID" "$label-loaded"
    warm_up "$label" "$PORT"
    check_alive "$label" "$PID"
    vm_status "$PID" "$label-warm"
    statistics "$PORT" "$label-warm"
    for c in $CONCURRENCY; do
        load "$engine-c$c" "$c" "$DURATION" "$PREDICT" "http://127.0.0.1:$PORT/$MODEL_NAME/predict" "$IMAGE" 0 "$FIELD"
        check_alive "$label" "$PID"
        statistics "$PORT" "$engine-c$c"
    done
    vm_status "$PID" "$label-end"
    finish "$label" "$PID"

    log "== $engine: queue $SMALL_QUEUE, deadline $DEADLINE_MS ms, concurrency $DEADLINE_CONCURRENCY"
    label="$engine-deadline"
    serve "$label" "$model" "$SMALL_QUEUE"
    warm_up "$label" "$PORT"
    check_alive "$label" "$PID"
    vm_status "$PID" "$label-warm"
    statistics "$PORT" "$label-warm"
    load "$engine-c$DEADLINE_CONCURRENCY" "$DEADLINE_CONCURRENCY" "$DURATION" "$PREDICT" \
        "http://127.0.0.1:$PORT/$MODEL_NAME/predict" "$IMAGE" "$DEADLINE_MS" "$FIELD"
    check_alive "$label" "$PID"
    vm_status "$PID" "$label-end"
    statistics "$PORT" "$engine-c$DEADLINE_CONCURRENCY"
    finish "$label" "$PID"
done

# --- 5. /ping: DMS against a bare Hummingbird app ---------------------------------------------
log "== /ping, concurrency $PING_CONCURRENCY"
first="${ENGINES%% *}"
model_var="MODEL_$first"
serve ping-dms "${!model_var}" "$QUEUE_SIZE"
load ping-dms "$PING_CONCURRENCY" "$DURATION" "$PING" "http://127.0.0.1:$PORT/ping"
check_alive ping-dms "$PID"
finish ping-dms "$PID"
start ping-bare "$BENCH_BIN" ping-server --port 0
load ping-bare "$PING_CONCURRENCY" "$DURATION" "$PING" "http://127.0.0.1:$PORT/ping"
check_alive ping-bare "$PID"
finish ping-bare "$PID" "0 143"

# --- 6. report -----------------------------------------------------------------------------------
"$PY" "$ROOT/bench/run_report.py" report "$RUN" "$RESULTS"
