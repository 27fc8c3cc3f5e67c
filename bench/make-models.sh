#!/usr/bin/env bash
# Makes the ResNet-18 benchmark models and image (shared by bench/run.sh and bench/engine-threads.sh).
#
#   bench/make-models.sh WORK EXPORT_BINARY
#
# EXPORT_BINARY is the deep-model-export of the build being measured. Each step is skipped when
# WORK already holds its result:
#   WORK/models/resnet18       scripts/make_test_models.py --resnet (random weights, fixed seed)
#   WORK/models/resnet18-onnx  mx.onnx.export_model through examples/export_digits_onnx.py's
#                              export() (dynamic batch, opset re-stamped 13, real I/O names in
#                              signature.json), checked against MXNet with onnxruntime
#   WORK/resnet18.model, WORK/resnet18-onnx.model   packed with EXPORT_BINARY
#   WORK/cat.jpg               a 240x232 JPEG made with PIL (resized to 224x224 by the server)
# Needs the venv of scripts/bootstrap.sh (.runtime/venv: mxnet, onnx, onnxruntime, PIL).
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 WORK EXPORT_BINARY" >&2
    exit 2
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$1"
EXPORT="$2"
PY="$ROOT/.runtime/venv/bin/python"

[ -x "$EXPORT" ] || { echo "make-models: $EXPORT is not an executable" >&2; exit 1; }
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
cd "$ROOT"

if [ ! -f "$WORK/models/resnet18/resnet18-0000.params" ]; then
    "$PY" scripts/make_test_models.py "$WORK/models" --resnet
fi
if [ ! -f "$WORK/models/resnet18-onnx/resnet18.onnx" ]; then
    "$PY" - "$WORK/models" <<'PY'
import os, sys, warnings
import numpy as np
sys.path.insert(0, os.path.join(os.getcwd(), "examples"))
import export_digits_onnx as ex  # export(): export_model, opset 13 re-stamp, tidy, signature.json, synset.txt

models = sys.argv[1]
onnx_path, signature = ex.export(models, "resnet18")  # writes MODELS/resnet18-onnx/
import onnxruntime as ort
x = np.random.RandomState(0).uniform(0, 255, (2, 3, 224, 224)).astype(np.float32)
session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
(y,) = session.run(None, {signature["inputs"][0]["data_name"]: x})
reference = ex.mxnet_forward(models, "resnet18", x)
diff = float(np.abs(y - reference).max())
print(f"  onnxruntime vs MXNet on 2 random images: max |diff| {diff:.3g} (logits up to {np.abs(reference).max():.0f})")
if diff > 1e-3:
    sys.exit("the ONNX export does not match MXNet")
PY
fi
for name in resnet18 resnet18-onnx; do
    if [ ! -f "$WORK/$name.model" ]; then
        "$EXPORT" --model-name "$name" --model-path "$WORK/models/$name" --output "$WORK" 2>/dev/null
    fi
done
if [ ! -f "$WORK/cat.jpg" ]; then
    "$PY" - "$WORK/cat.jpg" <<'PY'
import sys
import numpy as np
from PIL import Image
noise = np.random.RandomState(1).randint(0, 256, (240, 232, 3))
y, x = np.mgrid[0:240, 0:232]
pixels = ((np.stack([x, y, x + y], -1) * 0.5 + noise * 0.3) % 256).astype(np.uint8)
Image.fromarray(pixels).save(sys.argv[1], quality=90)
PY
fi
