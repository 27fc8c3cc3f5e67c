#!/usr/bin/env bash
# The cost of the channel to a Python service's worker process, per request: a pass-through
# service driven exactly as the server drives it (`deep-model-bench python-channel`), with a
# ResNet-18-sized input (1x3x224x224 float32, 602,112 bytes each way) and a [1, 1000] output.
#
#   bench/python-channel.sh            release build, 20 s
#   bench/python-channel.sh --smoke    CI check: the debug build (not rebuilt), 1 s
#
# Prints the JSON of `deep-model-bench python-channel` (ms per request p50/p90 and per step) and
# keeps it in $WORK/python-channel.json. Environment: SECONDS_TO_RUN (20 / 1), BIN_DIR (use these
# binaries instead of building), WORK=/tmp/dms-bench.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MODE=full
for arg in "$@"; do
    case "$arg" in
        --smoke) MODE=smoke ;;
        *) echo "python-channel: unknown argument $arg" >&2; exit 2 ;;
    esac
done
WORK="${WORK:-/tmp/dms-bench}"
mkdir -p "$WORK"
if [ "$MODE" = smoke ]; then
    RUN_SECONDS="${SECONDS_TO_RUN:-1}"
    BIN_DIR="${BIN_DIR:-$(swift build --show-bin-path)}"
elif [ -z "${BIN_DIR:-}" ]; then
    RUN_SECONDS="${SECONDS_TO_RUN:-20}"
    swift build -c release --static-swift-stdlib --product deep-model-bench >&2
    BIN_DIR="$(swift build -c release --show-bin-path)"
else
    RUN_SECONDS="${SECONDS_TO_RUN:-20}"
fi
"$BIN_DIR/deep-model-bench" python-channel --seconds "$RUN_SECONDS" | tee "$WORK/python-channel.json"
"$ROOT/.runtime/venv/bin/python" - "$WORK/python-channel.json" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
assert result["requests"] > 0, "no request was measured"
print(f"python channel: {result['ms_per_request_p50']:.2f} ms per request (p50; p90 {result['ms_per_request_p90']:.2f}), "
      f"_preprocess round trip {result['preprocess_ms_p50']:.2f} ms with {result['tensor_bytes']} bytes each way, "
      f"_postprocess {result['postprocess_ms_p50']:.2f} ms", file=sys.stderr)
PY
