#!/usr/bin/env bash
# The seed API against the Open Inference Protocol: the same image to the same model of one server,
# as `POST /MODEL/predict` (multipart) and as `POST /v2/models/MODEL/infer` (one BYTES input in
# binary tensor data, as tritonclient.http sends it), to show what the v2 surface costs per request.
#
#   bench/surfaces.sh [BINARY]      (default: the release build, .build/release/deep-model-server)
#
# Each round starts the server (--max-batch-size 8 --max-batch-delay 2 --queue-size 100, as
# bench/run.sh), warms both surfaces up WARMUP s at c=2, then runs wrk DURATION s on each surface at
# each concurrency of CONCURRENCY, alternating which surface goes first from round to round so that
# drift of the machine falls on both. The report gives, per surface and concurrency, the median
# over the rounds of req/s, p50 and p99, and v2's change against /predict.
#
# The default model is the tiny examples/digits-mlp (about 0.1 ms of engine time), where a fixed
# cost per request shows most. /predict answers its top-5 labels; v2 its 10 output floats.
#
# Environment: WORK=/tmp/dms-surfaces  ROUNDS=3  DURATION=10  WARMUP=2  CONCURRENCY="1 16"
#   WRK_TIMEOUT=30s
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.runtime/venv/bin/python"
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ] || [ $# -gt 1 ]; then
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    [ $# -le 1 ]
    exit
fi
BINARY="$(realpath "${1:-$ROOT/.build/release/deep-model-server}")"
WORK="${WORK:-/tmp/dms-surfaces}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
CONCURRENCY="${CONCURRENCY:-1 16}"
WRK_TIMEOUT="${WRK_TIMEOUT:-30s}"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

[ -x "$BINARY" ] || die "$BINARY is not an executable (build it: scripts/build.sh release)"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
RUN="$WORK/run-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RUN"
need_tools
"$ROOT/scripts/bootstrap.sh" >&2

MODEL_NAME=digits-mlp
MODEL_FILE="$ROOT/examples/digits-mlp.model"
IMAGE="$ROOT/examples/samples/digit-7-7-64.jpg"

surface() { # SURFACE C SECONDS LABEL: one wrk run on /predict or v2
    case "$1" in
        predict) load "$4" "$2" "$3" "$ROOT/bench/wrk/predict.lua" "http://127.0.0.1:$PORT/$MODEL_NAME/predict" "$IMAGE" 0 data ;;
        v2) load "$4" "$2" "$3" "$ROOT/bench/wrk/infer.lua" "http://127.0.0.1:$PORT/v2/models/$MODEL_NAME/infer" "$IMAGE" data ;;
    esac
}

log "$BINARY, $MODEL_NAME, $ROUNDS rounds, ${DURATION} s at each of c = $CONCURRENCY per surface; raw outputs in $RUN"
for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then order="predict v2"; else order="v2 predict"; fi
    label="server-r$round"
    start "$label" "$BINARY" --models "$MODEL_NAME=$MODEL_FILE" --port 0 --no-management --model-store "$WORK/store" \
        --log-file "$RUN/$label.log" --max-batch-size 8 --max-batch-delay 2 --queue-size 100
    for side in predict v2; do surface "$side" 2 "$WARMUP" "$side-r$round-warmup"; done
    for c in $CONCURRENCY; do
        for side in $order; do surface "$side" "$c" "$DURATION" "$side-r$round-c$c"; done
        check_alive "$label" "$PID"
    done
    finish "$label" "$PID"
done

"$PY" "$ROOT/bench/compare_report.py" "$RUN" "$ROUNDS" "$CONCURRENCY" predict v2
