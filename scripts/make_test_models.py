#!/usr/bin/env python3
"""Write small MXNet models for the server's tests, each into its own folder under OUTDIR.

    .runtime/venv/bin/python scripts/make_test_models.py OUTDIR [--resnet] [--slow] [--echo NAME=CxHxW ...]

Models (every folder gets NAME-symbol.json, NAME-0000.params and signature.json):
  echo-rgb     output = the input flattened: [0,3,32,32] -> [0,3072]; no parameters
  echo-gray    the same for [0,1,28,28] -> [0,784]
  --echo NAME=CxHxW   more echo models of any input shape (for example echo-gray-8=1x8x8, the
               input of examples/digits-*)
  --resnet     resnet18: gluon model-zoo ResNet-18 v1, random weights from a fixed seed,
               [0,3,224,224] -> [0,1000] logits, with synset.txt (class-0 .. class-999); also
               writes echo-rgb-224 ([0,3,224,224]) so scripts/parity.py can pair the two.
               About 45 MB: never commit it.
  --slow       slow-mx and slow-onnx: one small but deliberately slow image classifier (about
               0.4 s of engine time per image on 2 cores, 1.2 MB of weights) for both engines,
               to hold a model's worker busy in the scheduling tests (see make_slow below).
               slow-onnx/ holds slow-onnx.onnx and signature.json, the same weights built with
               onnx.helper, checked against MXNet within 1e-4; the per-image engine time at
               batch 1 and 4 is measured and printed for both engines. The networks are fully
               convolutional (then a global average pool): the same files serve any image size,
               and the cost grows with the size the signature gives (0.9 s at 576x576).

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
import time

os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")
# The threading the server gives MXNet (Sources/DMSMXNet/MXNetLibrary.swift), so that the timings
# printed for the slow models are the server's; read when libmxnet loads, hence before the import.
os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
os.environ.setdefault("MXNET_ENGINE_TYPE", "NaiveEngine")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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

    def create(self, symbol_json, params, shape):
        """A predictor for input `data` of this shape (free it with `free`)."""
        handle = ctypes.c_void_p()
        keys = (ctypes.c_char_p * 1)(b"data")
        indptr = (ctypes.c_uint32 * 2)(0, len(shape))
        dims = (ctypes.c_uint32 * len(shape))(*shape)
        self.check(
            self.lib.MXPredCreate(
                ctypes.c_char_p(symbol_json), ctypes.c_char_p(params), ctypes.c_int(len(params)),
                ctypes.c_int(1), ctypes.c_int(0), ctypes.c_uint32(1), keys, indptr, dims,
                ctypes.byref(handle),
            ),
            "MXPredCreate",
        )
        return handle

    def run(self, handle, x):
        """Output 0 for input x (of the shape the predictor was made for)."""
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

    def free(self, handle):
        self.lib.MXPredFree(handle)

    def forward(self, symbol_json, params, x):
        handle = self.create(symbol_json, params, x.shape)
        try:
            return self.run(handle, x)
        finally:
            self.free(handle)


def verify(folder, name, input_shape, output_size, predictor, echo):
    """Run the model both ways on random 0..255 pixels (a batch of 2 from SEED); returns the
    largest difference and the C API's output."""
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
    return diff, via_c


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
    diff, _ = verify(folder, name, [3, 224, 224], 1000, predictor, echo=False)
    size = os.path.getsize(os.path.join(folder, f"{name}-0000.params"))
    return folder, (
        f"[0,3,224,224] -> [0,1000], output '{output_name}', params {size / 1e6:.1f} MB, "
        f"C API vs Module max abs diff {diff:g}"
    )


# The slow models: two 3x3 convolutions of 128 channels at full 384x384 resolution cost about
# 2 * 384^2 * 128^2 * 9 = 43.5 GFLOP each, ~0.4 s per image on this project's 2-core machines with
# either engine, for 1.2 MB of weights (the cost scales with S^2 * C^2, the weights with C^2).
SLOW_SIZE = 384
SLOW_CHANNELS = 128
SLOW_HEAVY_CONVS = 2
SLOW_CLASSES = 10


def slow_symbol():
    """data -> conv 3->C, relu -> (conv C->C, relu) x SLOW_HEAVY_CONVS -> global average pool ->
    flatten -> fully connected (SLOW_CLASSES) -> softmax; returns (network, features)."""
    x = mx.sym.var("data")
    for i in range(1 + SLOW_HEAVY_CONVS):
        x = mx.sym.Convolution(x, kernel=(3, 3), pad=(1, 1), num_filter=SLOW_CHANNELS, name=f"slow_conv{i}")
        x = mx.sym.Activation(x, act_type="relu", name=f"slow_relu{i}")
    x = mx.sym.Pooling(x, global_pool=True, pool_type="avg", kernel=(1, 1), name="slow_pool")
    features = mx.sym.flatten(x, name="slow_flatten")
    logits = mx.sym.FullyConnected(features, num_hidden=SLOW_CLASSES, name="slow_fc")
    return mx.sym.softmax(logits, axis=-1, name="softmax"), features


def slow_test_images(size):
    """Plain pictures, as different from each other as images get for a net that averages over
    the whole picture: solid colours, gradients, stripes, noise. NCHW float32, 0..255."""
    ramp = np.linspace(0, 255, size, dtype=np.float32)
    images = [np.broadcast_to(np.array(c, np.float32)[:, None, None], (3, size, size))
              for c in ((230, 40, 40), (40, 200, 60), (30, 60, 220), (128, 128, 128), (250, 250, 250), (0, 0, 0))]
    images.append(np.stack([np.broadcast_to(ramp, (size, size)), np.broadcast_to(ramp[:, None], (size, size)),
                            np.full((size, size), 100, np.float32)]))
    stripes = ((np.arange(size) // 4) % 2 * 255).astype(np.float32)
    images.append(np.stack([np.broadcast_to(stripes, (size, size))] * 3))
    images.append(np.random.RandomState(SEED + 1).randint(0, 256, (3, size, size)).astype(np.float32))
    return np.stack(images)


def slow_weights(symbol, features):
    """Random weights from SEED, scaled so the softmax is neither flat nor saturated: the
    convolutions He-scaled (the first also centres the 0..255 pixels), the classifier scaled so the
    logits of slow_test_images (computed small, 64x64) spread with a standard deviation of 2."""
    rng = np.random.RandomState(SEED)
    params = {}
    fan_in = 3
    for i in range(1 + SLOW_HEAVY_CONVS):
        weight = rng.normal(0, np.sqrt(2.0 / (fan_in * 9)), (SLOW_CHANNELS, fan_in, 3, 3)).astype(np.float32)
        if i == 0:
            weight /= 128
            bias = -127.5 * weight.sum(axis=(1, 2, 3))
        else:
            bias = rng.normal(0, 0.05, SLOW_CHANNELS)
        params[f"slow_conv{i}_weight"], params[f"slow_conv{i}_bias"] = weight, bias.astype(np.float32)
        fan_in = SLOW_CHANNELS
    images = slow_test_images(64)
    executor = features.simple_bind(mx.cpu(), data=images.shape, grad_req="null")
    for key, value in params.items():
        executor.arg_dict[key][:] = value
    executor.arg_dict["data"][:] = images
    feats = executor.forward(is_train=False)[0].asnumpy().astype(np.float64)
    mean = feats.mean(axis=0)
    weight = rng.normal(0, 1, (SLOW_CLASSES, SLOW_CHANNELS))
    weight *= 2.0 / ((feats - mean) @ weight.T).std()
    params["slow_fc_weight"] = weight.astype(np.float32)
    params["slow_fc_bias"] = (-weight @ mean).astype(np.float32)
    assert set(params) == set(symbol.list_arguments()) - {"data"}, sorted(params)
    return params


def slow_onnx(params):
    """The same network in ONNX (opset 13, IR 7), built node by node. The batch `N` is dynamic,
    and so are the height and width (`H`, `W`): like the MXNet symbol, the network takes any
    image size, which the signature fixes (tests copy the model with a larger size to get a
    slower one)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, initializers, previous = [], [], "data"
    for i in range(1 + SLOW_HEAVY_CONVS):
        weight, bias = f"slow_conv{i}_weight", f"slow_conv{i}_bias"
        initializers += [numpy_helper.from_array(params[weight], weight), numpy_helper.from_array(params[bias], bias)]
        nodes += [
            helper.make_node("Conv", [previous, weight, bias], [f"slow_conv{i}"], name=f"slow_conv{i}",
                             kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            helper.make_node("Relu", [f"slow_conv{i}"], [f"slow_relu{i}"], name=f"slow_relu{i}"),
        ]
        previous = f"slow_relu{i}"
    initializers += [numpy_helper.from_array(params[k], k) for k in ("slow_fc_weight", "slow_fc_bias")]
    nodes += [
        helper.make_node("GlobalAveragePool", [previous], ["slow_pool"], name="slow_pool"),
        helper.make_node("Flatten", ["slow_pool"], ["slow_flatten"], name="slow_flatten", axis=1),
        helper.make_node("Gemm", ["slow_flatten", "slow_fc_weight", "slow_fc_bias"], ["slow_fc"], name="slow_fc", transB=1),
        helper.make_node("Softmax", ["slow_fc"], ["softmax"], name="softmax", axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "slow",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("softmax", TensorProto.FLOAT, ["N", SLOW_CLASSES])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_test_models.py")
    model.ir_version = 7
    onnx.checker.check_model(model, full_check=True)
    return model


def onnx_session(path):
    """An onnxruntime session threaded as the server's (Sources/DMSONNX/ONNXSession.swift)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def time_per_image(run, images):
    """Seconds per image: each of images[:2] alone, then images[:4] in one call. Returns
    (per image at batch 1, per image at batch 4, outputs one by one, outputs of the batch)."""
    singles, start = [], time.perf_counter()
    for i in range(2):
        singles.append(run(images[i : i + 1]))
    batch1 = (time.perf_counter() - start) / 2
    start = time.perf_counter()
    batched = run(images[:4])
    batch4 = (time.perf_counter() - start) / 4
    return batch1, batch4, np.concatenate(singles), batched


def make_slow(out_dir, predictor):
    import onnx

    shape = [3, SLOW_SIZE, SLOW_SIZE]
    symbol, features = slow_symbol()
    params = slow_weights(symbol, features)
    (output_name,) = symbol.list_outputs()

    mx_name, onnx_name = "slow-mx", "slow-onnx"
    mx_folder, onnx_folder = os.path.join(out_dir, mx_name), os.path.join(out_dir, onnx_name)
    os.makedirs(mx_folder, exist_ok=True)
    os.makedirs(onnx_folder, exist_ok=True)
    symbol.save(os.path.join(mx_folder, f"{mx_name}-symbol.json"))
    mx.nd.save(os.path.join(mx_folder, f"{mx_name}-0000.params"), {f"arg:{k}": mx.nd.array(v) for k, v in params.items()})
    write_signature(mx_folder, shape, output_name, [SLOW_CLASSES])
    _, via_mx = verify(mx_folder, mx_name, shape, SLOW_CLASSES, predictor, echo=False)

    onnx_path = os.path.join(onnx_folder, f"{onnx_name}.onnx")
    onnx.save(slow_onnx(params), onnx_path)
    write_signature(onnx_folder, shape, "softmax", [SLOW_CLASSES])
    session = onnx_session(onnx_path)

    # Parity on verify's two random images, then timing on plain pictures (also checking that a
    # batch gives each image the answer it gets alone, and that the answers are spread out).
    x = np.random.RandomState(SEED).randint(0, 256, size=(2, *shape)).astype(np.float32)
    (via_onnx,) = session.run(None, {"data": x})
    parity = float(np.abs(via_mx - via_onnx).max())
    assert parity <= 1e-4, f"slow-onnx and slow-mx differ by {parity}"

    images = slow_test_images(SLOW_SIZE)[:4]
    with open(os.path.join(mx_folder, f"{mx_name}-symbol.json"), "rb") as f:
        symbol_json = f.read()
    with open(os.path.join(mx_folder, f"{mx_name}-0000.params"), "rb") as f:
        params_bytes = f.read()
    handles = {}

    def mx_run(batch):
        if batch.shape[0] not in handles:
            handles[batch.shape[0]] = predictor.create(symbol_json, params_bytes, batch.shape)
        return predictor.run(handles[batch.shape[0]], batch)

    try:
        timings = {"MXNet": time_per_image(mx_run, images)}
    finally:
        for handle in handles.values():
            predictor.free(handle)
    timings["ONNX Runtime"] = time_per_image(lambda batch: session.run(None, {"data": batch})[0], images)
    lines = []
    for engine, (batch1, batch4, singles, batched) in timings.items():
        drift = float(np.abs(singles - batched[:2]).max())
        assert drift <= 1e-5, f"{engine}: a batch of 4 changes an image's answer by {drift}"
        lines.append(f"{engine}: {batch1:.3f} s/image at batch 1, {batch4:.3f} s/image at batch 4 "
                     f"(batch vs alone max abs diff {drift:g})")
    outputs = timings["MXNet"][3]
    assert outputs.max() < 0.99, f"saturated softmax: {outputs.max(axis=1)}"
    spread = min(float(np.abs(outputs[i] - outputs[j]).max()) for i in range(4) for j in range(i))
    assert spread > 1e-2, f"answers too alike to tell the images apart: {spread}"

    size = os.path.getsize(os.path.join(mx_folder, f"{mx_name}-0000.params"))
    threads = f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, ONNX Runtime intra-op threads {os.cpu_count()}"
    common = f"[0,{','.join(map(str, shape))}] -> [0,{SLOW_CLASSES}]"
    return [
        (mx_folder, f"{common}, output '{output_name}', params {size / 1e6:.1f} MB\n    " + "\n    ".join(lines)
         + f"\n    ({threads}; max top-1 {outputs.max():.3f}, min distance between answers {spread:.3f})"),
        (onnx_folder, f"{common}, output 'softmax', same weights; onnxruntime vs MXNet max abs diff {parity:g}"),
    ]


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
    parser.add_argument("--slow", action="store_true", help="also write slow-mx and slow-onnx (~0.4 s per image)")
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
    if args.slow:
        written += make_slow(args.outdir, predictor)
    for folder, description in written:
        files = ", ".join(sorted(os.listdir(folder)))
        print(f"wrote {folder}: {description}\n    {files}")
    print("all models load and run through both mx.mod.Module and MXPredCreate")


if __name__ == "__main__":
    sys.exit(main())
