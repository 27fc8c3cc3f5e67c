#!/usr/bin/env bash
# Parity check of issue #2: the server's tensor service against the seed-era pipeline in MXNet's
# own Python (scripts/parity.py), for three model/echo pairs, one server at a time.
#
#   scripts/run-parity.sh
#
# Needs the debug build (.build/debug/deep-model-server, .build/debug/deep-model-export, or the
# binaries named by DMS_SERVER_BINARY and DMS_EXPORT_BINARY) and the
# venv of scripts/bootstrap.sh (.runtime/venv with mxnet 1.9.1). It does not build anything.
#
# Steps, all inside a temporary work folder under ${TMPDIR:-/tmp}:
#   1. scripts/make_test_models.py WORK/models --resnet --echo echo-gray-8=1x8x8
#   2. deep-model-export packs resnet18, echo-rgb-224, echo-gray-8, examples/digits-mlp and
#      examples/digits-cnn into WORK/archives/NAME.model (an export error stops the script).
#   3. scripts/parity.py --make-images WORK/images
#   4. for each pair, starts one server on a free port (--port 0, the port is read from its
#      "listening on http://HOST:PORT" line), runs scripts/parity.py against it, stops it with
#      SIGTERM and requires exit status 0:
#        resnet18    + echo-rgb-224  on the synthetic images
#        digits-mlp  + echo-gray-8   on examples/samples and the synthetic images
#        digits-cnn  + echo-gray-8   on examples/samples and the synthetic images
#
# Exits 0 when every parity run passes and every server stopped cleanly, 1 otherwise.
#
# Environment:
#   KEEP_WORK=1        keep the work folder even when everything passes (it is always kept on
#                      failure, for inspection: server output, dms.log, models, archives, images)
#   START_TIMEOUT=N    seconds to wait for a server's "listening on" line (default 120)
#   STOP_TIMEOUT=N     seconds to wait for a server to exit after SIGTERM (default 60)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON=.runtime/venv/bin/python
SERVER_BIN="${DMS_SERVER_BINARY:-.build/debug/deep-model-server}"
EXPORT_BIN="${DMS_EXPORT_BINARY:-.build/debug/deep-model-export}"
START_TIMEOUT="${START_TIMEOUT:-120}"
STOP_TIMEOUT="${STOP_TIMEOUT:-60}"

START_SECONDS=$SECONDS
log() { printf 'run-parity: %s\n' "$*"; }
die() {
    printf 'run-parity: ERROR: %s\n' "$*" >&2
    exit 1
}

for f in "$PYTHON" "$SERVER_BIN" "$EXPORT_BIN"; do
    [[ -x "$f" ]] || die "missing $ROOT/$f (run scripts/bootstrap.sh and build first)"
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/dms-parity.XXXXXX")"
SERVER_PID=""
FAILURES=()

cleanup() {
    local status=$?
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        log "stopping server pid $SERVER_PID (cleanup)"
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ $status -eq 0 && "${KEEP_WORK:-0}" != 1 ]]; then
        rm -rf "$WORK"
    else
        log "work folder kept: $WORK"
    fi
    log "total time $((SECONDS - START_SECONDS)) s"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "work folder $WORK"

# ---------------------------------------------------------------------------------------------
# 1. Test models
# ---------------------------------------------------------------------------------------------
log "making test models"
"$PYTHON" scripts/make_test_models.py "$WORK/models" --resnet --echo echo-gray-8=1x8x8

# ---------------------------------------------------------------------------------------------
# 2. Archives
# ---------------------------------------------------------------------------------------------
declare -A FOLDER=(
    [resnet18]="$WORK/models/resnet18"
    [echo-rgb-224]="$WORK/models/echo-rgb-224"
    [echo-gray-8]="$WORK/models/echo-gray-8"
    [digits-mlp]="examples/digits-mlp"
    [digits-cnn]="examples/digits-cnn"
)
mkdir -p "$WORK/archives"
for name in resnet18 echo-rgb-224 echo-gray-8 digits-mlp digits-cnn; do
    log "exporting $name from ${FOLDER[$name]}"
    if ! "$EXPORT_BIN" --model-name "$name" --model-path "${FOLDER[$name]}" --output "$WORK/archives"; then
        die "deep-model-export refused ${FOLDER[$name]} (model $name); see its message above"
    fi
    [[ -f "$WORK/archives/$name.model" ]] || die "deep-model-export wrote no $WORK/archives/$name.model"
done

# ---------------------------------------------------------------------------------------------
# 3. Synthetic images
# ---------------------------------------------------------------------------------------------
log "making synthetic images"
"$PYTHON" scripts/parity.py --make-images "$WORK/images"

# ---------------------------------------------------------------------------------------------
# 4. One server per pair
# ---------------------------------------------------------------------------------------------
# start_server NAME ECHO OUTFILE: starts the server in the background, sets SERVER_PID and
# SERVER_URL, returns non-zero when it exits or does not report its port in time.
start_server() {
    local name=$1 echo=$2 out=$3
    SERVER_URL=""
    "$SERVER_BIN" \
        --models "$name=$WORK/archives/$name.model" "$echo=$WORK/archives/$echo.model" \
        --service mxnet_model_service --port 0 --no-management \
        --model-store "$WORK/store" --log-file "$WORK/dms.log" \
        >"$out" 2>&1 </dev/null &
    SERVER_PID=$!
    local deadline=$((SECONDS + START_TIMEOUT)) line
    while ((SECONDS < deadline)); do
        line="$(grep -oE -m1 '^listening on http://[^[:space:]/]+:[0-9]+' "$out" || true)"
        if [[ -n "$line" ]]; then
            SERVER_URL="${line#listening on }"
            return 0
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            local rc=0
            wait "$SERVER_PID" || rc=$?
            SERVER_PID=""
            log "server for $name exited with status $rc before listening; its output:"
            sed 's/^/    /' "$out"
            return 1
        fi
        sleep 0.2
    done
    log "server for $name did not report 'listening on' within $START_TIMEOUT s; its output:"
    sed 's/^/    /' "$out"
    return 1
}

# stop_server OUTFILE: SIGTERM, wait, returns non-zero unless the server exited with status 0.
stop_server() {
    local out=$1 pid=$SERVER_PID rc=0
    kill -TERM "$pid"
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "server pid $pid still running $STOP_TIMEOUT s after SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        SERVER_PID=""
        return 1
    fi
    wait "$pid" || rc=$?
    SERVER_PID=""
    if ((rc != 0)); then
        log "server pid $pid exited with status $rc after SIGTERM; last output lines:"
        tail -n 20 "$out" | sed 's/^/    /'
        return 1
    fi
    log "server pid $pid exited with status 0 after SIGTERM"
}

# run_pair LABEL NAME ECHO IMAGES...
run_pair() {
    local label=$1 name=$2 echo=$3
    shift 3
    local out="$WORK/server-$label.out" rc=0
    log "=== $label: $name + $echo ==="
    if ! start_server "$name" "$echo" "$out"; then
        FAILURES+=("$label: server did not start")
        return 0
    fi
    log "server pid $SERVER_PID at $SERVER_URL"
    "$PYTHON" scripts/parity.py --server "$SERVER_URL" --model-dir "${FOLDER[$name]}" \
        --model "$name" --echo-model "$echo" --images "$@" || rc=$?
    if ((rc != 0)); then
        FAILURES+=("$label: parity.py exited $rc")
    fi
    if ! stop_server "$out"; then
        FAILURES+=("$label: server did not exit 0 on SIGTERM")
    fi
}

# examples/samples is passed as a folder: parity.py keeps only its .jpg/.jpeg/.png files
# (the folder also holds expected.json).
run_pair resnet18 resnet18 echo-rgb-224 "$WORK/images"
run_pair digits-mlp digits-mlp echo-gray-8 examples/samples "$WORK/images"
run_pair digits-cnn digits-cnn echo-gray-8 examples/samples "$WORK/images"

echo
if ((${#FAILURES[@]})); then
    log "FAIL (${#FAILURES[@]}):"
    printf '    %s\n' "${FAILURES[@]}"
    exit 1
fi
log "PASS: all 3 pairs"
