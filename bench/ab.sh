#!/usr/bin/env bash
# A/B: two deep-model-server binaries on the same model, machine and run, to show what a change
# costs on the request path (metrics, logging, auth checks).
#
#   bench/ab.sh BINARY_A BINARY_B
#
# Rounds alternate the order (A B, then B A, …) so that drift of the machine falls on both. In
# each round, each binary serves the model alone (--max-batch-size 8 --max-batch-delay 2
# --queue-size 100, as bench/run.sh), is warmed up WARMUP s at c=2, then wrk runs DURATION s at
# each concurrency of CONCURRENCY. The report gives, per binary and concurrency, the median over
# the rounds of req/s, p50 and p99, and B's change against A.
#
# The default model is the tiny examples/digits-mlp (about 0.1 ms of engine time), where a fixed
# cost per request shows most; MODEL=resnet18 uses the ResNet-18 of bench/make-models.sh (needs
# an export binary: DMS_EXPORT_BINARY, default .build/release/deep-model-export).
#
# To compare a commit with an older one, build each and keep its binary, e.g.:
#   git checkout -q OLD && swift build -c release --static-swift-stdlib --product deep-model-server && cp .build/release/deep-model-server /tmp/dms-a
#   git checkout -q main && swift build -c release --static-swift-stdlib --product deep-model-server && cp .build/release/deep-model-server /tmp/dms-b
#   bench/ab.sh /tmp/dms-a /tmp/dms-b
#
# Environment: WORK=/tmp/dms-ab  MODEL=digits|resnet18  ROUNDS=3  DURATION=10  WARMUP=2
#   CONCURRENCY="1 16"  WRK_TIMEOUT=30s
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.runtime/venv/bin/python"
if [ $# -ne 2 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    [ $# -eq 2 ]
    exit
fi
BINARY_A="$(realpath "$1")"
BINARY_B="$(realpath "$2")"
WORK="${WORK:-/tmp/dms-ab}"
MODEL="${MODEL:-digits}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
CONCURRENCY="${CONCURRENCY:-1 16}"
WRK_TIMEOUT="${WRK_TIMEOUT:-30s}"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

for bin in "$BINARY_A" "$BINARY_B"; do [ -x "$bin" ] || die "$bin is not an executable"; done
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
RUN="$WORK/run-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RUN"
need_tools
"$ROOT/scripts/bootstrap.sh" >&2

case "$MODEL" in
    digits)
        MODEL_NAME=digits-mlp MODEL_FILE="$ROOT/examples/digits-mlp.model" IMAGE="$ROOT/examples/samples/digit-7-7-64.jpg" ;;
    resnet18)
        "$ROOT/bench/make-models.sh" "$WORK" "${DMS_EXPORT_BINARY:-$ROOT/.build/release/deep-model-export}" >&2
        MODEL_NAME=resnet18 MODEL_FILE="$WORK/resnet18.model" IMAGE="$WORK/cat.jpg" ;;
    *) die "MODEL must be digits or resnet18, not $MODEL" ;;
esac

PREDICT="$ROOT/bench/wrk/predict.lua"
measure() {  # LABEL BINARY ROUND
    local label="$1-r$3" c
    start "$label" "$2" --models "$MODEL_NAME=$MODEL_FILE" --port 0 --model-store "$WORK/store" \
        --log-file "$RUN/$label.log" --max-batch-size 8 --max-batch-delay 2 --queue-size 100
    load "$label-warmup" 2 "$WARMUP" "$PREDICT" "http://127.0.0.1:$PORT/$MODEL_NAME/predict" "$IMAGE" 0 data
    for c in $CONCURRENCY; do
        load "$label-c$c" "$c" "$DURATION" "$PREDICT" "http://127.0.0.1:$PORT/$MODEL_NAME/predict" "$IMAGE" 0 data
        check_alive "$label" "$PID"
    done
    finish "$label" "$PID"
}

log "A = $BINARY_A"
log "B = $BINARY_B"
log "$MODEL_NAME, $ROUNDS rounds, ${DURATION} s at each of c = $CONCURRENCY; raw outputs in $RUN"
for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then order="A B"; else order="B A"; fi
    for side in $order; do
        binary_var="BINARY_$side"
        measure "$side" "${!binary_var}" "$round"
    done
done

"$PY" "$ROOT/bench/compare_report.py" "$RUN" "$ROUNDS" "$CONCURRENCY" A B
