#!/usr/bin/env bash
# Sets up everything on a fresh machine (idempotent) and serves the bundled example models:
#   digits-mlp and digits-cnn, handwritten-digit classifiers trained on scikit-learn's digits.
#
#   scripts/serve-example.sh [extra deep-model-server options, e.g. --port 9000]
#
# Then: curl -X POST http://127.0.0.1:8080/digits-cnn/predict -F "input0=@examples/samples/digit-7-7.png"
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/build.sh" release
exec "$(swift build -c release --show-bin-path)/deep-model-server" \
    --models digits-mlp=examples/digits-mlp.model digits-cnn=examples/digits-cnn.model \
    --model-store "$ROOT/model-store" "$@"
