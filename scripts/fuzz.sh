#!/usr/bin/env bash
# Builds the fuzzing binary and runs the fuzz targets (docs/reliability.md):
#
#   scripts/fuzz.sh [--seconds N] [--jobs J] [TARGET…]   every target (or those named) N seconds
#                                                          each (default 60), J processes apiece
#   scripts/fuzz.sh --list                                 the targets and what they feed
#   scripts/fuzz.sh --replay TARGET FILE…                  runs inputs once (reproduce a finding)
#
# `dms-fuzz` is the project built with DMS_FUZZ=1: our code instrumented for libFuzzer and
# AddressSanitizer, dependencies as in the debug build, whose objects it shares (the scratch
# folder is .build unless DMS_FUZZ_SCRATCH says otherwise; the next ordinary build recompiles our
# modules). Each target starts from its committed seeds (fuzz/corpus/TARGET) plus what earlier
# runs here found (.build/fuzz/corpus/TARGET); this run's findings go to
# .build/fuzz/findings/TARGET. A table of runs, executions per second and coverage ends the
# output, also written to .build/fuzz/report.md (or DMS_FUZZ_REPORT). Exit status 1 when any
# target found a crash, leak, timeout or sanitizer report.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SCRATCH="${DMS_FUZZ_SCRATCH:-$ROOT/.build}"
WORK="$ROOT/.build/fuzz"
seconds=60
jobs=1
replay=()
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --list) list=1; shift ;;
    --replay) shift; replay=("$@"); break ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "fuzz: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
    esac
done

"$ROOT/scripts/bootstrap.sh" >/dev/null
echo "fuzz: DMS_FUZZ=1 swift build --product dms-fuzz" >&2
DMS_FUZZ=1 swift build --scratch-path "$SCRATCH" --product dms-fuzz 2>&1 | { grep -v "Cannot export local symbol" || true; } >&2
FUZZ="$(DMS_FUZZ=1 swift build --scratch-path "$SCRATCH" --show-bin-path)/dms-fuzz"

# Leaks are checked (LeakSanitizer) after every input that allocated more than it freed; the
# suppressions name leaks of dependencies, each explained in the file.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:symbolize=1}"
# Swift's own crash backtracer reads the crashed process's memory, which ASan reports instead
# of the fault itself: off, so a trap shows its message and libFuzzer's stack.
export SWIFT_BACKTRACE=enable=no
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$ROOT/sanitizers/lsan.supp:print_suppressions=0}"

if [ "${list:-}" = 1 ]; then
    exec "$FUZZ" --list
fi
if [ ${#replay[@]} -gt 0 ]; then
    target="${replay[0]}"
    exec "$FUZZ" "$target" -runs=1 "${replay[@]:1}"
fi
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <("$FUZZ" --list | cut -f1)
    [ ${#targets[@]} -gt 0 ] || { echo "fuzz: $FUZZ --list named no targets" >&2; exit 1; }
fi

mkdir -p "$WORK"
report="${DMS_FUZZ_REPORT:-$WORK/report.md}"
{
    echo "| target | runs | execs/s | coverage (edges) | features | corpus | result |"
    echo "|---|---:|---:|---:|---:|---:|---|"
} >"$report"
failed=0
for target in "${targets[@]}"; do
    corpus="$WORK/corpus/$target" findings="$WORK/findings/$target" log="$WORK/$target.log"
    # Findings are this run's: those of earlier runs are gone (a fixed one lives on in
    # fuzz/regressions).
    rm -rf "$findings"
    mkdir -p "$corpus" "$findings"
    echo "fuzz: $target for ${seconds}s" >&2
    status=0
    flags=()
    # ZIPFoundation leaks 32 bytes per archive it opens (sanitizers/lsan.supp): with leak checking,
    # LeakSanitizer then scans the heap after every input, which makes the target 13 times slower.
    [ "$target" = archive ] && flags=(-detect_leaks=0)
    # Several processes for one target: libFuzzer writes their output to fuzz-N.log in the
    # working folder, gathered into the target's log below.
    [ "$jobs" -gt 1 ] && flags+=(-jobs="$jobs" -workers="$jobs")
    # -timeout: an input running longer than 10 s is a hang; -rss_limit_mb bounds memory.
    "$FUZZ" "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${flags[@]}" \
        -artifact_prefix="$findings/" "$corpus" "$ROOT/fuzz/corpus/$target" >"$log" 2>&1 || status=$?
    if [ "$jobs" -gt 1 ]; then cat fuzz-*.log >>"$log" 2>/dev/null && rm -f fuzz-*.log; fi
    stats="$(grep -E '^#[0-9]+' "$log" | tail -1 || true)"
    runs="$(grep -E '^stat::number_of_executed_units:' "$log" | awk '{s += $2} END {print s + 0}')"
    rate="$(grep -E '^stat::average_exec_per_sec:' "$log" | awk '{s += $2} END {print s + 0}')"
    cov="$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$stats")"
    ft="$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$stats")"
    corp="$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$stats")"
    result="clean"
    if [ "$status" -ne 0 ] || ls "$findings" | grep -q .; then
        result="FOUND: $(ls "$findings" | head -3 | tr '\n' ' ')(see $log)"
        failed=1
    fi
    echo "| $target | $runs | $rate | ${cov:-?} | ${ft:-?} | ${corp:-?} | $result |" >>"$report"
done
cat "$report"
exit "$failed"
