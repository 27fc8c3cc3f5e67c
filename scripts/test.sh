#!/usr/bin/env bash
# Sets up everything on a fresh machine (idempotent) and runs every test:
#   1. Swift unit tests (swift test);
#   2. end-to-end tests: the real server binary with the real MXNet engine, driven by real HTTP
#      clients (pytest, tests/e2e); tests/e2e/test_container.py builds the release binary and the
#      container image (scripts/build-image.sh: podman, a debootstrapped Debian base) and runs it;
#      tests/e2e/test_wheel.py builds the pip wheel from the same release binaries
#      (scripts/build-wheel.sh) and installs it into a fresh venv;
#   3. benchmark and soak smoke runs, then every fuzz target for a short time (scripts/fuzz.sh).
#
#   scripts/test.sh [extra pytest arguments, e.g. -k ping]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Each step's line says how long the run has taken so far, so a slow step shows in CI's log.
step() { printf 'test: [%d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }
step "bootstrap"
"$ROOT/scripts/bootstrap.sh" --with-browser --with-clients

step "swift build --build-tests"
swift build --build-tests
step "swift test"
swift test --skip-build

step "the Python service API (pytest python/tests)"
PYTHONPATH="$ROOT/python" "$ROOT/.runtime/venv/bin/python" -m pytest -p no:cacheprovider -q -W ignore::DeprecationWarning "$ROOT/python/tests"

step "end-to-end (pytest tests/e2e)"
export DMS_SERVER_BINARY="$(swift build --show-bin-path)/deep-model-server"
export DMS_EXPORT_BINARY="$(swift build --show-bin-path)/deep-model-export"
export DMS_MXNET_LIBRARY="$ROOT/.runtime/lib/libmxnet.so"
"$ROOT/.runtime/venv/bin/python" -m pytest -p no:cacheprovider --durations=15 "$ROOT/tests/e2e" "$@"

step "benchmark smoke run"
"$ROOT/bench/run.sh" --smoke
"$ROOT/bench/python-channel.sh" --smoke
step "soak smoke run (30 s; bench/soak.sh)"
"$ROOT/bench/soak.sh" --binary "$DMS_SERVER_BINARY" --seconds 30 --concurrency 4 --warmup 10 --work "$ROOT/.build/soak-smoke"

# Last: the fuzz build recompiles our modules instrumented in the same build folder.
step "fuzz targets, ${DMS_FUZZ_SECONDS:-6} s each (scripts/fuzz.sh)"
"$ROOT/scripts/fuzz.sh" --seconds "${DMS_FUZZ_SECONDS:-6}"
step "done"
