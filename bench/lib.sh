# Helpers shared by the benchmark scripts (bench/run.sh, bench/ab.sh): logging, the processes a
# run starts (stopped on exit), wrk load runs and /statistics. Source it after setting ROOT, PY,
# RUN (the raw-output folder) and WRK_TIMEOUT.

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

# --- processes we start, stopped on exit ------------------------------------------------------
PIDS=()
proc_state() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1; }  # R, S, Z, …; empty when gone
alive() { local s; s="$(proc_state "$1")"; [ -n "$s" ] && [ "$s" != Z ]; }

# stop PID: SIGTERM, up to 60 s to finish (then SIGKILL); its exit status in STOP_RC.
stop() {
    local pid="$1" kept=() p
    STOP_RC=0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 600); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || STOP_RC=$?
    for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
    PIDS=("${kept[@]}")
}
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop "$pid"; done
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

problem() { echo "$*" >>"$RUN/problems.txt"; log "PROBLEM: $*"; }

# start LABEL COMMAND...: runs COMMAND (output in RUN/LABEL.out/.err), waits for its
# "listening on http://127.0.0.1:PORT" line; sets PID and PORT.
start() {
    local label="$1"
    shift
    "$@" >"$RUN/$label.out" 2>"$RUN/$label.err" &
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 600); do
        grep -q '^listening on ' "$RUN/$label.out" 2>/dev/null && break
        alive "$PID" || { tail -20 "$RUN/$label.err" >&2; die "$label exited before listening"; }
        sleep 0.1
    done
    PORT="$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$RUN/$label.out")"
    [ -n "$PORT" ] || die "$label printed no 'listening on http://127.0.0.1:PORT' within 60 s"
    log "$label: pid $PID, port $PORT"
}

# finish LABEL PID [ACCEPTED_STATUSES]: stops it; an exit status other than 0 is a problem.
finish() {
    stop "$2"
    case " ${3:-0} " in
        *" $STOP_RC "*) ;;
        *) problem "$1 exited with status $STOP_RC on SIGTERM (see $RUN/$1.err)" ;;
    esac
}

check_alive() {  # LABEL PID
    alive "$2" || { tail -20 "$RUN/$1.err" >&2; die "$1 died during the run (see $RUN/$1.err)"; }
}

vm_status() { grep -E '^Vm(RSS|HWM):' "/proc/$1/status" >"$RUN/$2.status" || die "cannot read /proc/$1/status"; }

statistics() {  # PORT NAME: GET /statistics into RUN/NAME.stats.json (on failure: NAME.stats.error)
    local code
    code="$(curl -sS --max-time 10 -o "$RUN/$2.stats.tmp" -w '%{http_code}' "http://127.0.0.1:$1/statistics" 2>&1)" || true
    if [ "$code" = 200 ]; then
        mv "$RUN/$2.stats.tmp" "$RUN/$2.stats.json"
    else
        { echo "HTTP $code"; cat "$RUN/$2.stats.tmp" 2>/dev/null; } >"$RUN/$2.stats.error"
        rm -f "$RUN/$2.stats.tmp"
        log "WARNING: GET /statistics answered $code ($2)"
    fi
}

# load NAME CONCURRENCY SECONDS SCRIPT URL [SCRIPT ARGS...]: wrk into RUN/NAME.wrk.txt.
load() {
    local name="$1" c="$2" seconds="$3" script="$4" url="$5" threads=2
    shift 5
    if [ "$c" -lt 2 ]; then threads="$c"; fi
    if [ $# -gt 0 ]; then set -- -- "$@"; fi
    wrk -c "$c" -t "$threads" -d "${seconds}s" --timeout "$WRK_TIMEOUT" --latency -s "$script" "$url" "$@" \
        >"$RUN/$name.wrk.txt" 2>&1 || { cat "$RUN/$name.wrk.txt" >&2; die "wrk failed ($name)"; }
    grep -q '^{"requests"' "$RUN/$name.wrk.txt" || { cat "$RUN/$name.wrk.txt" >&2; die "wrk printed no summary ($name)"; }
    "$PY" - "$RUN/$name.wrk.txt" "$name" "$c" <<'PY' >&2
import json, sys
r = json.loads([l for l in open(sys.argv[1]) if l.startswith('{"requests"')][-1])
s = r["status"]
extra = f", 503 {s['503']}, 504 {s['504']}" if s and (s["503"] or s["504"]) else ""
print(f"bench:   {sys.argv[2]}: c={sys.argv[3]} {r['requests_per_s']:.1f} req/s, p50 {r['p50_ms']:.1f} ms, "
      f"p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms, errors {r['errors']}{extra}")
PY
}

# need_tools: wrk (apt-get install when missing) and curl.
need_tools() {
    if ! command -v wrk >/dev/null 2>&1; then
        log "installing wrk with apt-get"
        SUDO=()
        [ "$(id -u)" -eq 0 ] || SUDO=(sudo -n)
        export DEBIAN_FRONTEND=noninteractive
        "${SUDO[@]}" apt-get install -y -qq --no-install-recommends wrk </dev/null >/dev/null 2>&1 ||
            { "${SUDO[@]}" apt-get update -qq </dev/null && "${SUDO[@]}" apt-get install -y -qq --no-install-recommends wrk </dev/null >/dev/null; } ||
            die "could not install wrk with apt-get"
    fi
    command -v wrk >/dev/null 2>&1 || die "wrk is missing"
    command -v curl >/dev/null 2>&1 || die "curl is missing"
}
