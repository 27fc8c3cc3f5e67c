#!/usr/bin/env python3
"""Export the two MXNet digit classifiers to ONNX and check them with ONNX Runtime.

    .runtime/venv/bin/python examples/export_digits_onnx.py [--examples examples] [--tolerance 1e-5]

Reads EXAMPLES/digits-mlp/ and EXAMPLES/digits-cnn/ (NAME-symbol.json, NAME-0000.params,
signature.json, synset.txt, as written by train_digits.py) and writes, for each NAME:

    EXAMPLES/NAME-onnx/NAME.onnx       the model, exported with mx.onnx.export_model, batch
                                       dimension dynamic (dynamic=True, dynamic_input_shapes)
    EXAMPLES/NAME-onnx/signature.json  the MXNet signature (shapes, input_type, output_type) with
                                       the ONNX graph's own input and output names
    EXAMPLES/NAME-onnx/synset.txt      copied

Then it runs every sample of EXAMPLES/samples/expected.json (its ``input`` field: the 64
preprocessed pixels, 0..255) through onnxruntime, one at a time and all in one batch, and fails
unless the probabilities match the ones MXNet stored there (and a fresh MXNet forward pass) within
--tolerance, and the top-1 class is the stored one.

The exporter (mxnet 1.9.1, python/mxnet/onnx) writes its operators for ONNX opset 13 but stamps
the model with the newest opset of the installed onnx package (and uses ``onnx.mapping``, which
onnx 1.19 removed). The model is re-stamped with opset 13, the opset its translations are
written for, so the file does not claim operator versions it was not written for; see tidy() for
the other clean-ups (none changes an operator or a weight).
"""

import argparse
import json
import os
import shutil
import sys
import warnings

os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")

import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from train_digits import to_json  # noqa: E402  (this folder is on sys.path when run as a script)

# The exporter calls onnx.mapping.NP_TYPE_TO_TENSOR_TYPE, deprecated since onnx 1.13.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"onnx\.mapping")
warnings.filterwarnings("ignore", message=r".*mapping\..* is now deprecated", category=DeprecationWarning)

MODELS = ("digits-mlp", "digits-cnn")
EXPORTER_OPSET = 13  # mxnet 1.9.1's translations: _op_translations_opset13.py (falls back to 12)


def graph_io(model):
    """Names of the graph's real inputs (not initializers) and of its outputs."""
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    return inputs, list(model.graph.output)


def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def tidy(model, signature):
    """Fix what the exporter leaves untidy, without touching a single operator or weight.

    - opset: re-stamped EXPORTER_OPSET (the exporter stamps the installed onnx's newest opset), IR
      version 7 (the IR of opset 13's onnx release);
    - the weights are listed as graph inputs as well as initializers (pre-IR-4 style), which makes
      onnxruntime treat them as overridable inputs and skip constant folding: they are dropped from
      the inputs, and initializers no node reads (the softmax's unused ``softmax_0``) are removed;
    - the dynamic batch dimension is an unnamed dimension and the outputs have no known dimension:
      both get the signature's shapes, with the batch dimension named ``N``.
    """
    del model.opset_import[:]
    model.opset_import.extend([onnx.helper.make_opsetid("", EXPORTER_OPSET)])
    model.ir_version = min(model.ir_version, 7)
    model.producer_name, model.producer_version = "mxnet.onnx.export_model", mx.__version__

    graph = model.graph
    used = {name for node in graph.node for name in node.input}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    names = {t.name for t in kept}
    inputs = [i for i in graph.input if i.name not in names]
    del graph.input[:]
    graph.input.extend(inputs)

    for values, specs in ((graph.input, signature["inputs"]), (graph.output, signature["outputs"])):
        for value, spec in zip(values, specs):
            shape = value.type.tensor_type.shape
            del shape.dim[:]
            for size in spec["data_shape"]:
                dim = shape.dim.add()
                if size:
                    dim.dim_value = size
                else:
                    dim.dim_param = "N"


def export(examples, name):
    src = os.path.join(examples, name)
    dst = os.path.join(examples, f"{name}-onnx")
    os.makedirs(dst, exist_ok=True)
    with open(os.path.join(src, "signature.json")) as f:
        signature = json.load(f)
    shapes = [tuple(d or 1 for d in i["data_shape"]) for i in signature["inputs"]]
    dynamic_shapes = [(None,) + tuple(i["data_shape"][1:]) for i in signature["inputs"]]
    onnx_path = os.path.join(dst, f"{name}.onnx")
    mx.onnx.export_model(
        os.path.join(src, f"{name}-symbol.json"),
        os.path.join(src, f"{name}-0000.params"),
        in_shapes=shapes,
        in_types=[np.float32] * len(shapes),
        onnx_file_path=onnx_path,
        dynamic=True,
        dynamic_input_shapes=dynamic_shapes,
    )

    model = onnx.load(onnx_path)
    stamped = [(o.domain, o.version) for o in model.opset_import]
    tidy(model, signature)
    onnx.checker.check_model(model, full_check=True)  # full_check: strict shape inference too
    onnx.save(model, onnx_path)

    inputs, outputs = graph_io(model)
    if len(inputs) != len(signature["inputs"]) or len(outputs) != len(signature["outputs"]):
        sys.exit(f"{name}: the ONNX graph has {len(inputs)} inputs and {len(outputs)} outputs, "
                 f"the signature {len(signature['inputs'])} and {len(signature['outputs'])}")
    onnx_signature = {
        "inputs": [dict(i, data_name=v.name) for i, v in zip(signature["inputs"], inputs)],
        "input_type": signature["input_type"],
        "outputs": [dict(o, data_name=v.name) for o, v in zip(signature["outputs"], outputs)],
        "output_type": signature["output_type"],
    }
    with open(os.path.join(dst, "signature.json"), "w") as f:
        f.write(to_json(onnx_signature) + "\n")
    shutil.copyfile(os.path.join(src, "synset.txt"), os.path.join(dst, "synset.txt"))

    last = model.graph.node[-1]
    producer = next(n for n in model.graph.node if outputs[0].name in n.output)
    print(f"  wrote {dst}/: {os.path.getsize(onnx_path)} bytes, exporter stamped opset {stamped}, "
          f"re-stamped {EXPORTER_OPSET}, {len(model.graph.node)} nodes "
          f"({', '.join(sorted({n.op_type for n in model.graph.node}))})")
    print("    inputs  " + ", ".join(f"{v.name} {dims(v)}" for v in inputs))
    print("    outputs " + ", ".join(f"{v.name} {dims(v)}" for v in outputs))
    print(f"    last node: {last.op_type} '{last.name}' -> {list(last.output)}; "
          f"output '{outputs[0].name}' comes from {producer.op_type}")
    return onnx_path, onnx_signature


def mxnet_forward(examples, name, batch):
    sym, arg_params, aux_params = mx.model.load_checkpoint(os.path.join(examples, name, name), 0)
    module = mx.mod.Module(sym, data_names=["data"], label_names=None, context=mx.cpu())
    module.bind(data_shapes=[("data", batch.shape)], for_training=False)
    module.set_params(arg_params, aux_params, allow_missing=False)
    module.forward(mx.io.DataBatch([mx.nd.array(batch)]), is_train=False)
    return module.get_outputs()[0].asnumpy()


def verify(examples, name, onnx_path, onnx_signature, samples, tolerance):
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    input_name = onnx_signature["inputs"][0]["data_name"]
    output_name = onnx_signature["outputs"][0]["data_name"]
    shape = [len(samples)] + onnx_signature["inputs"][0]["data_shape"][1:]
    batch = np.array([s["input"] for s in samples], dtype=np.float32).reshape(shape)
    stored = np.array([s["predictions"][name]["probabilities"] for s in samples], dtype=np.float32)

    (batched,) = session.run([output_name], {input_name: batch})
    single = np.concatenate([session.run([output_name], {input_name: batch[i : i + 1]})[0]
                             for i in range(len(samples))])
    live = mxnet_forward(examples, name, batch)
    diffs = {
        "batch vs expected.json": float(np.abs(batched - stored).max()),
        "one by one vs expected.json": float(np.abs(single - stored).max()),
        "batch vs MXNet now": float(np.abs(batched - live).max()),
    }
    top1 = batched.argmax(axis=1)
    wrong = [s["file"] for s, t in zip(samples, top1) if t != s["predictions"][name]["index"]]
    print(f"  {name}: {len(samples)} samples, batch output {list(batched.shape)}, "
          + ", ".join(f"max |diff| {k} {v:.3g}" for k, v in diffs.items()))
    failures = [f"{k} {v:.3g} > {tolerance}" for k, v in diffs.items() if v > tolerance]
    if wrong:
        failures.append(f"top-1 differs on {wrong}")
    return failures, diffs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", default=os.path.dirname(os.path.abspath(__file__)),
                        help="folder holding digits-mlp/, digits-cnn/ and samples/ (default: examples/)")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()

    print(f"mxnet {mx.__version__}, onnx {onnx.__version__} (opset {onnx.defs.onnx_opset_version()}), "
          f"onnxruntime {ort.__version__}, numpy {np.__version__}")
    with open(os.path.join(args.examples, "samples", "expected.json")) as f:
        samples = json.load(f)["samples"]
    failures = []
    for name in MODELS:
        onnx_path, onnx_signature = export(args.examples, name)
        problems, _ = verify(args.examples, name, onnx_path, onnx_signature, samples, args.tolerance)
        failures += [f"{name}: {p}" for p in problems]
    if failures:
        sys.exit("FAILED:\n  " + "\n  ".join(failures))
    print(f"ONNX Runtime matches MXNet within {args.tolerance:g} on every sample")


if __name__ == "__main__":
    main()
