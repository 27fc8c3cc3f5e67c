#!/usr/bin/env bash
# Runs the tests under sanitizers (docs/reliability.md#sanitizers):
#
#   scripts/sanitize.sh [thread] [address] [e2e] [-- PYTEST-ARGUMENTS…]
#
#   thread    the Swift unit tests built with ThreadSanitizer (build folder .build/sanitize-thread)
#   address   the Swift unit tests built with AddressSanitizer and LeakSanitizer
#             (.build/sanitize-address)
#   e2e       the end-to-end suite (tests/e2e, or what the pytest arguments select) against server
#             and export binaries built with AddressSanitizer and LeakSanitizer, with the real
#             engines (the same build folder as `address`)
#
# Without a part, all three run. Each sanitizer builds everything in a folder of its own (a first
# build takes about 15 minutes on 2 cores; later ones only what changed). Reports are written to
# .build/sanitize/PART/ and printed at the end; the script fails when a part's tests fail or any
# report was written. Suppressions (sanitizers/*.supp) name only code we do not own, each with why.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REPORTS="$ROOT/.build/sanitize"
parts=()
pytest_arguments=()
while [ $# -gt 0 ]; do
    case "$1" in
    thread | address | e2e) parts+=("$1"); shift ;;
    --) shift; pytest_arguments=("$@"); break ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "sanitize: unknown argument $1 (parts: thread, address, e2e)" >&2; exit 2 ;;
    esac
done
[ ${#parts[@]} -gt 0 ] || parts=(thread address e2e)
[ ${#pytest_arguments[@]} -gt 0 ] || pytest_arguments=("$ROOT/tests/e2e")

"$ROOT/scripts/bootstrap.sh" >/dev/null
# Swift's crash backtracer reads the crashed process's memory, which ASan would report instead of
# the fault itself; the sanitizer's own stack trace is the one wanted.
export SWIFT_BACKTRACE=enable=no
# The unit tests that load an engine find it here, as in scripts/test.sh.
export DMS_MXNET_LIBRARY="$ROOT/.runtime/lib/libmxnet.so"

failed=()

# build SANITIZER [swift build arguments…]: builds into .build/sanitize-SANITIZER.
build() {
    local sanitizer="$1"
    shift
    echo "sanitize: swift build --sanitize=$sanitizer $*" >&2
    swift build --sanitize="$sanitizer" --scratch-path "$ROOT/.build/sanitize-$sanitizer" "$@"
}

# fresh_reports PART: an empty report folder for PART; prints its log_path prefix.
fresh_reports() {
    rm -rf "${REPORTS:?}/$1"
    mkdir -p "$REPORTS/$1"
    echo "$REPORTS/$1/report"
}

# check_reports PART: prints the reports PART's run wrote and records a failure when there are any.
check_reports() {
    local files=("$REPORTS/$1"/report.*)
    if [ -e "${files[0]}" ]; then
        echo "sanitize: $1: ${#files[@]} report file(s) in $REPORTS/$1:" >&2
        cat "${files[@]}" >&2
        failed+=("$1 (reports)")
    else
        echo "sanitize: $1: no sanitizer reports" >&2
    fi
}

# The options every AddressSanitizer run uses: leaks checked at exit against the suppressions; a
# smaller quarantine than the default 256 MiB, so tests that compare a server's resident memory
# with its baseline see freed memory come back.
asan_options() {
    export ASAN_OPTIONS="detect_leaks=1:quarantine_size_mb=16:log_path=$1"
    export LSAN_OPTIONS="suppressions=$ROOT/sanitizers/lsan.supp:print_suppressions=0"
}

for part in "${parts[@]}"; do
    case "$part" in
    thread)
        build thread --build-tests
        TSAN_OPTIONS="log_path=$(fresh_reports thread):suppressions=$ROOT/sanitizers/tsan.supp" \
            swift test --skip-build --sanitize=thread --scratch-path "$ROOT/.build/sanitize-thread" ||
            failed+=("thread (tests)")
        check_reports thread
        ;;
    address)
        build address --build-tests
        (
            asan_options "$(fresh_reports address)"
            swift test --skip-build --sanitize=address --scratch-path "$ROOT/.build/sanitize-address"
        ) || failed+=("address (tests)")
        check_reports address
        ;;
    e2e)
        # With the tests, as `address` builds: a build of the products alone uses other flags
        # (no testability) and would make the next `address` build recompile everything.
        build address --build-tests
        bin="$(swift build --sanitize=address --scratch-path "$ROOT/.build/sanitize-address" --show-bin-path)"
        (
            asan_options "$(fresh_reports e2e)"
            export DMS_SERVER_BINARY="$bin/deep-model-server" DMS_EXPORT_BINARY="$bin/deep-model-export"
            # test_container.py and test_wheel.py test the release binaries they build, not these.
            "$ROOT/.runtime/venv/bin/python" -m pytest -p no:cacheprovider --durations=10 \
                --ignore "$ROOT/tests/e2e/test_container.py" --ignore "$ROOT/tests/e2e/test_wheel.py" "${pytest_arguments[@]}"
        ) || failed+=("e2e (tests)")
        check_reports e2e
        ;;
    esac
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "sanitize: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "sanitize: ${parts[*]}: tests passed, no sanitizer reports" >&2
