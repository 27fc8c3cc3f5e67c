#!/usr/bin/env bash
# The Open Inference Protocol over REST against gRPC, through the clients people use:
# tritonclient.http (binary tensor data) and tritonclient.grpc, the same image as one BYTES input
# to the same model of one server, closed loop, in alternating rounds (bench/client_latency.py,
# run in .runtime/clients-venv). The clients are Python, so their own cost is in both sides'
# figures; bench/surfaces.sh measures REST with wrk.
#
#   bench/clients.sh [BINARY]      (default: the release build, .build/release/deep-model-server)
#
# Environment: WORK=/tmp/dms-clients  ROUNDS=3  DURATION=10  WARMUP=2  CONCURRENCY="1 4"
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.runtime/venv/bin/python"
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ] || [ $# -gt 1 ]; then
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    [ $# -le 1 ]
    exit
fi
BINARY="$(realpath "${1:-$ROOT/.build/release/deep-model-server}")"
WORK="${WORK:-/tmp/dms-clients}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
CONCURRENCY="${CONCURRENCY:-1 4}"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

[ -x "$BINARY" ] || die "$BINARY is not an executable (build it: scripts/build.sh release)"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
RUN="$WORK/run-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RUN"
"$ROOT/scripts/bootstrap.sh" --with-clients >&2

MODEL_NAME=digits-mlp
start server "$BINARY" --models "$MODEL_NAME=$ROOT/examples/digits-mlp.model" --port 0 --grpc-port 0 --no-management \
    --model-store "$WORK/store" --log-file "$RUN/server.log" --max-batch-size 8 --max-batch-delay 2 --queue-size 100
for _ in $(seq 100); do  # the gRPC listener binds just after the REST one
    GRPC_ADDRESS="$(sed -n 's|^gRPC listening on \(127\.0\.0\.1:[0-9]*\).*|\1|p' "$RUN/server.out")"
    [ -n "$GRPC_ADDRESS" ] && break
    sleep 0.1
done
[ -n "$GRPC_ADDRESS" ] || die "the server printed no 'gRPC listening on' line"
log "$BINARY, $MODEL_NAME, $ROUNDS rounds, ${DURATION} s at each of c = $CONCURRENCY per side; raw outputs in $RUN"
"$ROOT/.runtime/clients-venv/bin/python" "$ROOT/bench/client_latency.py" "127.0.0.1:$PORT" "$GRPC_ADDRESS" "$MODEL_NAME" data \
    "$ROOT/examples/samples/digit-7-7-64.jpg" "$ROUNDS" "$DURATION" "$WARMUP" "$CONCURRENCY" 2>"$RUN/rounds.jsonl"
check_alive server "$PID"
finish server "$PID"
