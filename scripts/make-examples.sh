#!/usr/bin/env bash
# Re-creates the bundled example models: trains them on scikit-learn's handwritten digits
# (examples/train_digits.py, fixed seeds, byte-reproducible) and packs each folder into
# examples/NAME.model with deep-model-export.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/build.sh"
"$ROOT/.runtime/venv/bin/python" examples/train_digits.py
for name in digits-mlp digits-cnn; do
    "$(swift build --show-bin-path)/deep-model-export" --model-name "$name" --model-path "examples/$name" --output examples --force
done
