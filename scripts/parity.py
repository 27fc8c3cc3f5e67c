#!/usr/bin/env python3
"""Parity check: the running server against the seed-era pipeline in MXNet's own Python.

    .runtime/venv/bin/python scripts/parity.py --server http://127.0.0.1:PORT \\
        --model-dir DIR --model NAME --echo-model ECHONAME --images IMG [IMG ...]
    .runtime/venv/bin/python scripts/parity.py --make-images DIR

The server (started separately) must serve NAME with the built-in service `mxnet_model_service`,
which answers `POST /NAME/predict` (multipart field `input0` = the image file) with the raw output
tensors: {"prediction": [{"name": ..., "shape": [1, K], "datatype": "FP32", "data": [...]}]},
and ECHONAME, a model with the same input shape whose output is its input flattened (see
scripts/make_test_models.py: echo-rgb-224 pairs with resnet18, --echo echo-gray-8=1x8x8 with the
digits examples).

For every image, MXNet Python computes what the seed computed:
    mx.img.imdecode(bytes, flag=1 for 3 channels / 0 for 1) -> mx.img.imresize(img, W, H, 2)
    -> transpose to NCHW float32 -> mx.mod.Module forward (symbol and params from DIR)
and compares it with the server's answers:
  (a) echo: the server's input tensor must equal the Python one bit for bit,
  (b) outputs: max abs diff <= --atol (1e-4),
  (c) the top-5 indices of the first output must agree.
Prints one row per image and a final PASS or FAIL line; exits 1 on FAIL, 2 on a usage error.

--make-images DIR writes synthetic test images (numpy patterns and noise encoded with Pillow:
JPEG and PNG, colour and gray, several sizes) and, without --server, stops there.
DIR for --model-dir is a model folder (NAME-symbol.json, NAME-NNNN.params, signature.json) or
a .model archive (a zip of such a folder).
"""

import argparse
import glob
import json
import mimetypes
import os
import sys
import tempfile
import time
import zipfile

os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")

import numpy as np  # noqa: E402

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
SEED = 20240607


# ------------------------------------------------------------------------------------------------
# Synthetic images
# ------------------------------------------------------------------------------------------------
def make_images(out_dir):
    """Write JPEG/PNG images made from numpy patterns and noise; returns their paths."""
    from PIL import Image

    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.RandomState(SEED)

    def grid(h, w):
        y, x = np.mgrid[0:h, 0:w].astype(np.float64)
        return y / max(h - 1, 1), x / max(w - 1, 1)

    def u8(a):
        return np.clip(np.floor(a + 0.5), 0, 255).astype(np.uint8)

    def gradient_rgb(h, w):
        y, x = grid(h, w)
        return u8(np.stack([255 * x, 255 * y, 255 * (1 - x) * y + 40 * np.sin(12 * x)], axis=-1))

    def rings_gray(h, w):
        y, x = grid(h, w)
        r = np.hypot(x - 0.45, y - 0.55)
        return u8(127.5 + 127.5 * np.cos(40 * r))

    def checker_gray(h, w, cell):
        y, x = np.mgrid[0:h, 0:w]
        return u8(((y // cell + x // cell) % 2) * 200 + 30)

    def noise_rgb(h, w):
        return rng.randint(0, 256, size=(h, w, 3)).astype(np.uint8)

    def blobs_rgb(h, w):
        y, x = grid(h, w)
        img = np.zeros((h, w, 3))
        for _ in range(6):
            cy, cx, s = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.3)
            colour = rng.uniform(0, 255, size=3)
            weight = np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * s * s))
            img += weight[..., None] * colour
        return u8(np.clip(img, 0, 255) + rng.normal(0, 6, size=(h, w, 3)))

    def stripes_rgb(h, w):
        y, x = np.mgrid[0:h, 0:w]
        return u8(np.stack([(x * 37) % 256, (y * 53) % 256, ((x + y) * 11) % 256], axis=-1))

    def save(name, array, mode, **options):
        path = os.path.join(out_dir, name)
        Image.fromarray(array, mode=mode).save(path, **options)
        return path

    noisy_gray = u8(rings_gray(300, 400) * 0.8 + rng.normal(0, 12, size=(300, 400)))
    rgba = np.concatenate([blobs_rgb(48, 64), u8(rings_gray(48, 64))[..., None]], axis=-1)
    return [
        save("gradient-rgb-320x240.jpg", gradient_rgb(240, 320), "RGB", quality=90),
        save("blobs-rgb-500x375-progressive.jpg", blobs_rgb(375, 500), "RGB", quality=85, progressive=True),
        save("noise-rgb-224x224.png", noise_rgb(224, 224), "RGB"),
        save("stripes-rgb-33x17.png", stripes_rgb(17, 33), "RGB"),
        save("blobs-rgb-1024x768-444.jpg", blobs_rgb(768, 1024), "RGB", quality=95, subsampling=0),
        save("rings-gray-400x300.jpg", noisy_gray, "L", quality=92),
        save("checker-gray-100x60.png", checker_gray(60, 100, 7), "L"),
        save("rings-gray-8x8.png", rings_gray(8, 8), "L"),
        save("blobs-rgba-64x48.png", rgba, "RGBA"),
    ]


# ------------------------------------------------------------------------------------------------
# The seed-era pipeline in MXNet Python
# ------------------------------------------------------------------------------------------------
class ReferenceModel:
    """A model folder loaded into mx.mod.Module, with the seed's image preprocessing."""

    def __init__(self, model_dir):
        import mxnet as mx

        self.mx = mx
        self._tmp = None
        if os.path.isfile(model_dir) and zipfile.is_zipfile(model_dir):
            self._tmp = tempfile.TemporaryDirectory(prefix="parity-model-")
            with zipfile.ZipFile(model_dir) as archive:
                archive.extractall(self._tmp.name)
            model_dir = self._tmp.name
        symbols = glob.glob(os.path.join(model_dir, "**", "*-symbol.json"), recursive=True)
        if len(symbols) != 1:
            raise SystemExit(f"expected one *-symbol.json in {model_dir}, found {len(symbols)}")
        prefix = symbols[0][: -len("-symbol.json")]
        params = sorted(glob.glob(glob.escape(prefix) + "-[0-9][0-9][0-9][0-9].params"))
        if not params:
            raise SystemExit(f"no {prefix}-NNNN.params next to {symbols[0]}")
        folder = os.path.dirname(symbols[0])
        with open(os.path.join(folder, "signature.json")) as f:
            self.signature = json.load(f)
        model_input = self.signature["inputs"][0]
        self.input_name = model_input.get("data_name", "data")
        shape = model_input["data_shape"]
        if len(shape) != 4 or shape[1] not in (1, 3):
            raise SystemExit(f"signature input shape {shape} is not an image shape [N, 1|3, H, W]")
        _, self.channels, self.height, self.width = shape
        self.signature_output_names = [o.get("data_name") for o in self.signature.get("outputs", [])]

        symbol = mx.sym.load(symbols[0])
        self.output_names = symbol.list_outputs()
        loaded = mx.nd.load(params[-1])
        loaded = loaded if isinstance(loaded, dict) else {}  # an empty params file loads as []
        args = {k.split(":", 1)[1]: v for k, v in loaded.items() if k.startswith("arg:")}
        auxs = {k.split(":", 1)[1]: v for k, v in loaded.items() if k.startswith("aux:")}
        args.update({k: v for k, v in loaded.items() if ":" not in k})
        self.module = mx.mod.Module(
            symbol, data_names=[self.input_name], label_names=None, context=mx.cpu()
        )
        self.module.bind(
            data_shapes=[(self.input_name, (1, self.channels, self.height, self.width))],
            for_training=False,
        )
        self.module.set_params(args, auxs, allow_missing=False, allow_extra=True)
        self.description = (
            f"{os.path.basename(symbols[0])} + {os.path.basename(params[-1])}, input "
            f"'{self.input_name}' [1,{self.channels},{self.height},{self.width}], outputs {self.output_names}"
        )

    def preprocess(self, data):
        """What the seed's vision service did: decode, bicubic resize, HWC -> NCHW float32."""
        mx = self.mx
        img = mx.img.imdecode(data, flag=1 if self.channels == 3 else 0)  # RGB order for colour
        img = mx.img.imresize(img, self.width, self.height, 2)
        return img.transpose((2, 0, 1)).expand_dims(axis=0).astype("float32").asnumpy()

    def forward(self, tensor):
        mx = self.mx
        self.module.forward(mx.io.DataBatch([mx.nd.array(tensor)]), is_train=False)
        return [o.asnumpy() for o in self.module.get_outputs()]


# ------------------------------------------------------------------------------------------------
# The server
# ------------------------------------------------------------------------------------------------
class ServerError(Exception):
    pass


def post_image(session, server, model, path, data, timeout):
    import requests

    mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
    url = f"{server}/{model}/predict"
    try:
        response = session.post(
            url, files={"input0": (os.path.basename(path), data, mime)}, timeout=timeout
        )
    except requests.RequestException as error:
        raise ServerError(f"POST {url}: {error}") from error
    if response.status_code != 200:
        raise ServerError(f"POST {url}: HTTP {response.status_code}: {response.text[:300]}")
    try:
        body = response.json()
    except ValueError as error:
        raise ServerError(f"POST {url}: not JSON: {response.text[:300]}") from error
    return parse_tensors(body, url)


def parse_tensors(body, url):
    """[(name, shape, float32 array)] from {"prediction": [{"name", "shape", "datatype", "data"}]}."""
    prediction = body.get("prediction") if isinstance(body, dict) else None
    if isinstance(prediction, list) and len(prediction) == 1 and isinstance(prediction[0], list):
        prediction = prediction[0]
    if not isinstance(prediction, list) or not prediction or not all(
        isinstance(t, dict) and "data" in t for t in prediction
    ):
        raise ServerError(f"{url}: expected raw output tensors, got {json.dumps(body)[:300]}")
    tensors = []
    for tensor in prediction:
        datatype = tensor.get("datatype", "FP32")
        if datatype != "FP32":
            raise ServerError(f"{url}: output '{tensor.get('name')}' has datatype {datatype}, not FP32")
        data = np.asarray(tensor["data"], dtype=np.float64).reshape(-1)
        values = data.astype(np.float32)
        shape = [int(d) for d in tensor.get("shape", [values.size])]
        if int(np.prod(shape)) != values.size:
            raise ServerError(f"{url}: shape {shape} does not match {values.size} values")
        tensors.append((tensor.get("name"), shape, values))
    return tensors


def wait_for_server(session, server, seconds):
    import requests

    deadline = time.monotonic() + seconds
    while True:
        try:
            if session.get(f"{server}/ping", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.25)


def top_k(values, k):
    return [int(i) for i in np.argsort(-values, kind="stable")[:k]]


# ------------------------------------------------------------------------------------------------
# The check
# ------------------------------------------------------------------------------------------------
def expand_images(items):
    paths = []
    for item in items:
        if os.path.isdir(item):
            paths += sorted(
                p for p in glob.glob(os.path.join(item, "*")) if p.lower().endswith(IMAGE_EXTENSIONS)
            )
        else:
            paths.append(item)
    return paths


def check_image(args, session, reference, path):
    """One table row (dict) for one image; row['ok'] tells whether it passed."""
    with open(path, "rb") as f:
        data = f.read()
    row = {"image": os.path.basename(path), "ok": True, "notes": []}

    def fail(note):
        row["ok"] = False
        row["notes"].append(note)

    tensor = reference.preprocess(data)
    expected = reference.forward(tensor)
    flat_input = tensor.reshape(-1)

    # (a) the echo model returns the tensor the server fed it
    if args.echo_model:
        try:
            echoed = post_image(session, args.server, args.echo_model, path, data, args.timeout)
            _, echo_shape, echo_values = echoed[0]
            if echo_values.size != flat_input.size:
                fail(f"echo has {echo_values.size} values (shape {echo_shape}), expected {flat_input.size}")
            else:
                differing = echo_values.view(np.uint32) != flat_input.view(np.uint32)
                row["echo_ndiff"] = int(differing.sum())
                row["echo_maxdiff"] = float(np.abs(echo_values - flat_input).max())
                if row["echo_ndiff"]:
                    first = int(np.argmax(differing))
                    c, rest = divmod(first, reference.height * reference.width)
                    y, x = divmod(rest, reference.width)
                    fail(
                        f"input tensor differs in {row['echo_ndiff']} of {flat_input.size} values; "
                        f"first at c={c} y={y} x={x}: server {echo_values[first]:g}, python {flat_input[first]:g}"
                    )
        except ServerError as error:
            fail(str(error))

    # (b) raw outputs and (c) top-5
    try:
        served = post_image(session, args.server, args.model, path, data, args.timeout)
    except ServerError as error:
        fail(str(error))
        return row
    if len(served) != len(expected):
        fail(f"server returned {len(served)} outputs, the symbol has {len(expected)}")
    max_diff = 0.0
    for index, want in enumerate(expected):
        if index >= len(served):
            break
        name, shape, values = served[index]
        known = {reference.output_names[index]}
        if index < len(reference.signature_output_names):
            known.add(reference.signature_output_names[index])
        if name not in known:
            row["notes"].append(f"output {index} is named '{name}' (symbol/signature: {sorted(known)})")
        if list(shape) != list(want.shape):
            fail(f"output {index} shape {shape}, python {list(want.shape)}")
        if values.size != want.size:
            continue
        diff = float(np.abs(values - want.reshape(-1)).max()) if values.size else 0.0
        if not np.isfinite(values).all():
            fail(f"output {index} has non-finite values")
            diff = float("inf")
        max_diff = max(max_diff, diff)
        if index == 0:
            row["top_python"] = top_k(want.reshape(-1), args.top)
            row["top_server"] = top_k(values, args.top)
    row["out_maxdiff"] = max_diff
    if max_diff > args.atol:
        fail(f"outputs differ by {max_diff:.3g} > {args.atol:g}")
    if row.get("top_python") != row.get("top_server"):
        fail(f"top-{args.top} differ: python {row.get('top_python')}, server {row.get('top_server')}")
    return row


def print_table(rows, top):
    header = f"{'image':34s} {'echo max|d|':>11s} {'echo #diff':>10s} {'out max|d|':>11s}  {'top-' + str(top) + ' (python)':24s} result"
    print(header)
    print("-" * len(header))
    for row in rows:
        echo_max = f"{row['echo_maxdiff']:.3g}" if "echo_maxdiff" in row else "-"
        echo_n = str(row["echo_ndiff"]) if "echo_ndiff" in row else "-"
        out = f"{row['out_maxdiff']:.3g}" if "out_maxdiff" in row else "-"
        top_text = ",".join(map(str, row.get("top_python", []))) or "-"
        print(
            f"{row['image'][:34]:34s} {echo_max:>11s} {echo_n:>10s} {out:>11s}  {top_text:24s} "
            f"{'ok' if row['ok'] else 'FAIL'}"
        )
        for note in row["notes"]:
            print(f"    {note}")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 2)[2],
    )
    parser.add_argument("--server", help="base URL of the running server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--model-dir", help="model folder or .model archive served as --model")
    parser.add_argument("--model", help="served name of the model")
    parser.add_argument("--echo-model", help="served name of an echo model with the same input shape")
    parser.add_argument("--images", nargs="+", default=[], help="image files or folders of them")
    parser.add_argument("--make-images", metavar="DIR", help="write synthetic test images into DIR")
    parser.add_argument("--atol", type=float, default=1e-4, help="max abs output difference (1e-4)")
    parser.add_argument("--top", type=int, default=5, help="how many top indices must agree (5)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request (60)")
    parser.add_argument("--wait", type=float, default=30.0, help="seconds to wait for GET /ping (30)")
    args = parser.parse_args()

    made = []
    if args.make_images:
        made = make_images(args.make_images)
        for path in made:
            print(f"wrote {path}")
        if not args.server:
            return 0
    if not args.server or not args.model_dir or not args.model:
        parser.print_usage(sys.stderr)
        print("parity.py: --server, --model-dir and --model are needed (or only --make-images)", file=sys.stderr)
        return 2
    images = expand_images(args.images) or made
    if not images:
        print("parity.py: no images given (--images or --make-images)", file=sys.stderr)
        return 2
    args.server = args.server.rstrip("/")

    import requests

    reference = ReferenceModel(args.model_dir)
    print(f"reference: {reference.description}")
    if not args.echo_model:
        print("warning: no --echo-model, so the input tensors are not compared")
    session = requests.Session()
    if args.wait > 0 and not wait_for_server(session, args.server, args.wait):
        print(f"FAIL: {args.server}/ping did not answer 200 within {args.wait:g} s")
        return 1

    rows = [check_image(args, session, reference, path) for path in images]
    print_table(rows, args.top)
    failed = [row["image"] for row in rows if not row["ok"]]
    if failed:
        print(f"FAIL: {len(failed)} of {len(rows)} images failed ({', '.join(failed)})")
        return 1
    print(f"PASS: {len(rows)} images, model '{args.model}'" + (f", echo '{args.echo_model}'" if args.echo_model else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
