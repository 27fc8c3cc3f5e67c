#!/usr/bin/env bash
# Soak run (docs/reliability.md): sustained mixed valid and invalid traffic over /predict, the v2
# REST surface and gRPC, against an MXNet and an ONNX model, with RSS and descriptors sampled
# every 10 s (bench/soak.py).
#
#   bench/soak.sh [--binary PATH] [--seconds N (1800)] [--concurrency C (8)] [--work DIR]
#
# Without --binary it builds and uses the release server (as the benchmarks do). Exit status 1
# on an unexpected answer, a dead server or growth of RSS or descriptors past the warm-up.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
binary=""
args=()
while [ $# -gt 0 ]; do
    case "$1" in
    --binary) binary="$2"; shift 2 ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
    esac
done
"$ROOT/scripts/bootstrap.sh" --with-clients >/dev/null
if [ -z "$binary" ]; then
    echo "soak: swift build -c release --static-swift-stdlib --product deep-model-server" >&2
    swift build -c release --static-swift-stdlib --product deep-model-server >&2
    binary="$(swift build -c release --show-bin-path)/deep-model-server"
fi
export DMS_MXNET_LIBRARY="${DMS_MXNET_LIBRARY:-$ROOT/.runtime/lib/libmxnet.so}"
exec "$ROOT/.runtime/clients-venv/bin/python" "$ROOT/bench/soak.py" --binary "$binary" "${args[@]}"
