#!/usr/bin/env python3
"""Write small MXNet models for the server's tests, each into its own folder under OUTDIR.

    .runtime/venv/bin/python scripts/make_test_models.py OUTDIR [--resnet] [--echo NAME=CxHxW ...]

Models (every folder gets NAME-symbol.json, NAME-0000.params and signature.json):
  echo-rgb     output = the input flattened: [0,3,32,32] -> [0,3072]; no parameters
  echo-gray    the same for [0,1,28,28] -> [0,784]
  --echo NAME=CxHxW   more echo models of any input shape (for example echo-gray-8=1x8x8, the
               input of examples/digits-*)
  --resnet     resnet18: gluon model-zoo ResNet-18 v1, random weights from a fixed seed,
               [0,3,224,224] -> [0,1000] logits, with synset.txt (class-0 .. class-999); also
               writes echo-rgb-224 ([0,3,224,224]) so scripts/parity.py can pair the two.
               About 45 MB: never commit it.

An echo model is `flatten(data)` with an empty parameter file (`mx.nd.save(path, {})`, 32 bytes).
Every model written is checked twice before the script ends: loaded into an mx.mod.Module, and
through MXNet's C predict API (MXPredCreate/MXPredSetInput/MXPredForward/MXPredGetOutput via
ctypes on the same libmxnet.so the server dlopens); both must give the same output, and an echo
model must return its input bit for bit.
"""

import argparse
import ctypes
import json
import os
import re
import sys

os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")

import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402

SEED = 20240607


def write_signature(folder, input_shape, output_name, output_shape, input_type="image/jpeg"):
    signature = {
        "inputs": [{"data_name": "data", "data_shape": [0, *input_shape]}],
        "input_type": input_type,
        "outputs": [{"data_name": output_name, "data_shape": [0, *output_shape]}],
        "output_type": "application/json",
    }
    with open(os.path.join(folder, "signature.json"), "w") as f:
        json.dump(signature, f, indent=2)
        f.write("\n")


def load_params(path):
    """arg and aux dicts from a params file, with or without the arg:/aux: prefixes."""
    args, auxs = {}, {}
    loaded = mx.nd.load(path)
    # mx.nd.save(path, {}) writes zero arrays and zero names, which loads back as an empty list.
    if isinstance(loaded, list):
        if loaded:
            raise ValueError(f"{path}: arrays without names")
        return args, auxs
    for key, value in loaded.items():
        kind, _, name = key.partition(":")
        if kind == "aux":
            auxs[name] = value
        else:
            args[name if kind == "arg" else key] = value
    return args, auxs


def module_forward(folder, name, x):
    symbol = mx.sym.load(os.path.join(folder, f"{name}-symbol.json"))
    args, auxs = load_params(os.path.join(folder, f"{name}-0000.params"))
    module = mx.mod.Module(symbol, data_names=["data"], label_names=None, context=mx.cpu())
    module.bind(data_shapes=[("data", x.shape)], for_training=False)
    module.set_params(args, auxs, allow_missing=False, allow_extra=False)
    module.forward(mx.io.DataBatch([mx.nd.array(x)]), is_train=False)
    return module.get_outputs()[0].asnumpy()


class CPredictor:
    """The seed-compatible C predict API (c_predict_api.h), as the Swift server calls it."""

    def __init__(self):
        self.lib = ctypes.CDLL(mx.libinfo.find_lib_path()[0])
        self.lib.MXGetLastError.restype = ctypes.c_char_p

    def check(self, rc, what):
        if rc != 0:
            raise RuntimeError(f"{what} failed: {self.lib.MXGetLastError().decode()}")

    def forward(self, symbol_json, params, x):
        handle = ctypes.c_void_p()
        keys = (ctypes.c_char_p * 1)(b"data")
        indptr = (ctypes.c_uint32 * 2)(0, x.ndim)
        shape = (ctypes.c_uint32 * x.ndim)(*x.shape)
        self.check(
            self.lib.MXPredCreate(
                ctypes.c_char_p(symbol_json), ctypes.c_char_p(params), ctypes.c_int(len(params)),
                ctypes.c_int(1), ctypes.c_int(0), ctypes.c_uint32(1), keys, indptr, shape,
                ctypes.byref(handle),
            ),
            "MXPredCreate",
        )
        try:
            x = np.ascontiguousarray(x, dtype=np.float32)
            self.check(
                self.lib.MXPredSetInput(
                    handle, b"data", x.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                    ctypes.c_uint32(x.size),
                ),
                "MXPredSetInput",
            )
            self.check(self.lib.MXPredForward(handle), "MXPredForward")
            dims = ctypes.POINTER(ctypes.c_uint32)()
            ndim = ctypes.c_uint32()
            self.check(
                self.lib.MXPredGetOutputShape(handle, 0, ctypes.byref(dims), ctypes.byref(ndim)),
                "MXPredGetOutputShape",
            )
            out = np.empty([dims[i] for i in range(ndim.value)], dtype=np.float32)
            self.check(
                self.lib.MXPredGetOutput(
                    handle, 0, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                    ctypes.c_uint32(out.size),
                ),
                "MXPredGetOutput",
            )
            return out
        finally:
            self.lib.MXPredFree(handle)


def verify(folder, name, input_shape, output_size, predictor, echo):
    """Run the model both ways on random 0..255 pixels; returns the output name."""
    rng = np.random.RandomState(SEED)
    x = rng.randint(0, 256, size=(2, *input_shape)).astype(np.float32)  # batch 2
    via_module = module_forward(folder, name, x)
    with open(os.path.join(folder, f"{name}-symbol.json"), "rb") as f:
        symbol_json = f.read()
    with open(os.path.join(folder, f"{name}-0000.params"), "rb") as f:
        params = f.read()
    via_c = predictor.forward(symbol_json, params, x)
    assert via_module.shape == (2, output_size), (name, via_module.shape)
    assert via_c.shape == via_module.shape, (name, via_c.shape)
    diff = float(np.abs(via_c - via_module).max())
    assert diff <= 1e-5, f"{name}: C predict API and Module differ by {diff}"
    if echo:
        assert np.array_equal(via_c.view(np.uint32), x.reshape(2, -1).view(np.uint32)), name
    return diff


def make_echo(out_dir, name, input_shape, predictor):
    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    symbol = mx.sym.flatten(mx.sym.var("data"), name="echo")
    symbol.save(os.path.join(folder, f"{name}-symbol.json"))
    mx.nd.save(os.path.join(folder, f"{name}-0000.params"), {})
    (output_name,) = symbol.list_outputs()
    size = int(np.prod(input_shape))
    write_signature(folder, input_shape, output_name, [size])
    verify(folder, name, input_shape, size, predictor, echo=True)
    return folder, f"[0,{','.join(map(str, input_shape))}] -> [0,{size}], output '{output_name}'"


def make_resnet18(out_dir, predictor):
    from mxnet.gluon.model_zoo import vision

    name = "resnet18"
    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    mx.random.seed(SEED)
    np.random.seed(SEED)
    net = vision.resnet18_v1(pretrained=False, classes=1000)
    net.initialize(mx.init.Xavier(), ctx=mx.cpu())
    net.hybridize()
    net(mx.nd.zeros((1, 3, 224, 224)))
    net.export(os.path.join(folder, name), epoch=0)
    (output_name,) = mx.sym.load(os.path.join(folder, f"{name}-symbol.json")).list_outputs()
    write_signature(folder, [3, 224, 224], output_name, [1000])
    with open(os.path.join(folder, "synset.txt"), "w") as f:
        f.write("".join(f"class-{i}\n" for i in range(1000)))
    diff = verify(folder, name, [3, 224, 224], 1000, predictor, echo=False)
    size = os.path.getsize(os.path.join(folder, f"{name}-0000.params"))
    return folder, (
        f"[0,3,224,224] -> [0,1000], output '{output_name}', params {size / 1e6:.1f} MB, "
        f"C API vs Module max abs diff {diff:g}"
    )


def parse_echo(text):
    match = re.fullmatch(r"([A-Za-z0-9_.-]+)=(\d+)x(\d+)x(\d+)", text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected NAME=CxHxW, got {text!r}")
    return match.group(1), [int(match.group(i)) for i in (2, 3, 4)]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 2)[2],
    )
    parser.add_argument("outdir", help="folder that receives one sub-folder per model")
    parser.add_argument("--resnet", action="store_true", help="also write resnet18 (45 MB) and echo-rgb-224")
    parser.add_argument("--echo", type=parse_echo, action="append", default=[], metavar="NAME=CxHxW",
                        help="an extra echo model with this input shape (repeatable)")
    args = parser.parse_args()

    os.makedirs(args.outdir, exist_ok=True)
    predictor = CPredictor()
    echoes = [("echo-rgb", [3, 32, 32]), ("echo-gray", [1, 28, 28])] + args.echo
    if args.resnet:
        echoes.append(("echo-rgb-224", [3, 224, 224]))
    written = [make_echo(args.outdir, name, shape, predictor) for name, shape in echoes]
    if args.resnet:
        written.append(make_resnet18(args.outdir, predictor))
    for folder, description in written:
        files = ", ".join(sorted(os.listdir(folder)))
        print(f"wrote {folder}: {description}\n    {files}")
    print("all models load and run through both mx.mod.Module and MXPredCreate")


if __name__ == "__main__":
    sys.exit(main())
