#!/usr/bin/env python3
"""Train two small MXNet digit classifiers on scikit-learn's bundled handwritten digits.

    .runtime/venv/bin/python examples/train_digits.py [--out examples]

Data: ``sklearn.datasets.load_digits`` (1,797 gray 8x8 images, values 0..16, shipped inside the
scikit-learn wheel, so nothing is downloaded). The images are scaled to 0..255 and rounded to
uint8, which is exactly what an 8-bit PNG of them holds, and the models take that as float32
NCHW input of shape (N, 1, 8, 8). The division by 255 happens inside the exported graph, so the
server feeds the decoded pixels as they are.

Writes (all re-created on every run, with fixed seeds):
    OUT/digits-mlp/  digits-mlp-symbol.json, digits-mlp-0000.params, signature.json, synset.txt
    OUT/digits-cnn/  digits-cnn-symbol.json, digits-cnn-0000.params, signature.json, synset.txt
    OUT/samples/     digit-<label>-<index>.png (8x8 gray, <index> = index in load_digits),
                     two of them also as 64x64 colour JPEG (quality 95) and 64x64 RGB PNG,
                     expected.json: label and MXNet's top-1 class/probability for each file.

The last operator of each exported symbol is ``softmax``, so the model's output is the
class probabilities. expected.json is computed with the seed's own preprocessing in MXNet:
mx.img.imdecode(bytes, flag=0) -> mx.img.imresize(img, 8, 8, 2) -> NCHW float32 -> Module.forward.
"""

import argparse
import hashlib
import io
import json
import os
import random
import sys

# Serial execution and one OpenMP thread make training repeatable run to run; the env vars must be
# set before mxnet is imported. MXNET_SUBGRAPH_VERBOSE=0 silences the per-bind oneDNN banner.
os.environ.setdefault("MXNET_ENGINE_TYPE", "NaiveEngine")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")

import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402
from mxnet import autograd, gluon  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

SEED = 20240607
NUM_CLASSES = 10
SIDE = 8
SAMPLE_COUNT = 6  # 8x8 PNG samples
UPSCALED_COUNT = 2  # of those, also written as 64x64 JPEG and RGB PNG
UPSCALED_SIDE = 64
# The colour of the strokes in the colour variants (the background stays black), so that the
# server's colour -> gray conversion does real work rather than copying equal channels.
TINT = (1.0, 0.85, 0.55)
MIN_SAMPLE_PROBABILITY = 0.9  # keep only samples that both models classify confidently


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    mx.random.seed(seed)


def load_data():
    """Digits as uint8 0..255 images (N, 8, 8) and int labels, split 75/25 stratified."""
    digits = load_digits()
    images = np.floor(digits.images * (255.0 / 16.0) + 0.5).astype(np.uint8)
    labels = digits.target.astype(np.int64)
    indices = np.arange(len(labels))
    train_idx, test_idx = train_test_split(
        indices, test_size=0.25, random_state=SEED % (2**32), stratify=labels
    )
    return images, labels, np.sort(train_idx), np.sort(test_idx)


class DigitsClassifier(gluon.HybridBlock):
    """Raw 0..255 pixels in, class probabilities out.

    ``features`` maps pixels scaled to 0..1 to logits (used directly for training); the block
    itself adds the scaling in front and a softmax named ``softmax`` behind, so the exported
    symbol's last operator is that softmax and its output is named ``softmax_output``.
    """

    def __init__(self, features, **kwargs):
        super().__init__(prefix="", **kwargs)
        with self.name_scope():
            self.features = features

    def logits(self, x):
        return self.features(x * (1.0 / 255.0))

    def hybrid_forward(self, F, x):
        return F.softmax(self.features(x * (1.0 / 255.0)), axis=-1, name="softmax")


def make_mlp():
    features = gluon.nn.HybridSequential(prefix="mlp_")
    with features.name_scope():
        features.add(gluon.nn.Dense(64, activation="relu"))
        features.add(gluon.nn.Dense(NUM_CLASSES))
    return DigitsClassifier(features)


def make_cnn():
    features = gluon.nn.HybridSequential(prefix="cnn_")
    with features.name_scope():
        features.add(gluon.nn.Conv2D(16, kernel_size=3, padding=1, use_bias=False))
        features.add(gluon.nn.BatchNorm())  # gives the params file aux: (running mean/var) entries
        features.add(gluon.nn.Activation("relu"))
        features.add(gluon.nn.Conv2D(32, kernel_size=3, padding=1, activation="relu"))
        features.add(gluon.nn.MaxPool2D(pool_size=2))  # 32 x 4 x 4
        features.add(gluon.nn.Dense(32, activation="relu"))
        features.add(gluon.nn.Dense(NUM_CLASSES))
    return DigitsClassifier(features)


def to_nchw(images):
    return mx.nd.array(images.reshape(-1, 1, SIDE, SIDE).astype(np.float32))


def train(name, net, images, labels, train_idx, epochs, learning_rate, batch_size=32):
    seed_everything(SEED)
    net.initialize(mx.init.Xavier(magnitude=2.0))
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": learning_rate})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    rng = np.random.RandomState(SEED)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(train_idx)
        total = 0.0
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            x = to_nchw(images[batch])
            y = mx.nd.array(labels[batch])
            with autograd.record():
                loss = loss_fn(net.logits(x), y)
            loss.backward()
            trainer.step(len(batch))
            total += float(loss.sum().asscalar())
        if epoch == 1 or epoch % 10 == 0 or epoch == epochs:
            print(f"  {name} epoch {epoch:3d}: mean loss {total / len(order):.4f}")
    return net


def accuracy(net, images, labels, idx):
    probabilities = net(to_nchw(images[idx])).asnumpy()
    return float((probabilities.argmax(axis=1) == labels[idx]).mean())


def to_json(value, indent=0):
    """JSON text with one key per line but lists of numbers kept on one line."""
    pad = "  " * (indent + 1)
    if isinstance(value, dict) and value:
        items = [f"{pad}{json.dumps(k)}: {to_json(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    if isinstance(value, list) and value and not all(isinstance(v, (int, float)) for v in value):
        items = [pad + to_json(v, indent + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + "  " * indent + "]"
    return json.dumps(value)


def export(net, out_dir, name):
    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    net(mx.nd.zeros((1, 1, SIDE, SIDE)))  # make sure the cached graph exists
    net.export(os.path.join(folder, name), epoch=0)
    symbol = mx.sym.load(os.path.join(folder, f"{name}-symbol.json"))
    (output_name,) = symbol.list_outputs()
    last_op = json.loads(symbol.tojson())["nodes"][-1]["op"]
    assert last_op == "softmax", f"{name}: the last operator is {last_op}, not softmax"
    signature = {
        "inputs": [{"data_name": "data", "data_shape": [0, 1, SIDE, SIDE]}],
        "input_type": "image/jpeg",
        "outputs": [{"data_name": output_name, "data_shape": [0, NUM_CLASSES]}],
        "output_type": "application/json",
    }
    with open(os.path.join(folder, "signature.json"), "w") as f:
        f.write(to_json(signature) + "\n")
    with open(os.path.join(folder, "synset.txt"), "w") as f:
        f.write("".join(f"{c}\n" for c in range(NUM_CLASSES)))
    params_path = os.path.join(folder, f"{name}-0000.params")
    with open(params_path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    print(
        f"  wrote {folder}/: output '{output_name}', params {os.path.getsize(params_path)} bytes, "
        f"sha256 {digest[:16]}"
    )
    return folder


class ServerPipeline:
    """A model loaded the way the seed's MXNet service loads it, fed the way the seed feeds it."""

    def __init__(self, folder, name):
        symbol, arg_params, aux_params = mx.model.load_checkpoint(os.path.join(folder, name), 0)
        self.module = mx.mod.Module(symbol, data_names=["data"], label_names=None, context=mx.cpu())
        self.module.bind(data_shapes=[("data", (1, 1, SIDE, SIDE))], for_training=False)
        self.module.set_params(arg_params, aux_params, allow_missing=False)

    @staticmethod
    def preprocess(data):
        img = mx.img.imdecode(data, flag=0)  # H x W x 1, uint8
        img = mx.img.imresize(img, SIDE, SIDE, 2)  # OpenCV bicubic
        return img.transpose((2, 0, 1)).expand_dims(axis=0).astype("float32")

    def predict(self, tensor):
        self.module.forward(mx.io.DataBatch([tensor]), is_train=False)
        return self.module.get_outputs()[0].asnumpy()[0]


def encode(image, fmt, **options):
    buf = io.BytesIO()
    image.save(buf, format=fmt, **options)
    return buf.getvalue()


def sample_variants(pixels, index, label):
    """(file name, encoded bytes, description) for one digit: the 8x8 gray PNG."""
    gray = Image.fromarray(pixels, mode="L")
    return [(f"digit-{label}-{index}.png", encode(gray, "PNG", optimize=False), "8x8 gray PNG")]


def upscaled_variants(pixels, index, label):
    """The 64x64 colour JPEG and RGB PNG of one digit (nearest-neighbour upscale, tinted strokes)."""
    big = np.repeat(np.repeat(pixels, UPSCALED_SIDE // SIDE, axis=0), UPSCALED_SIDE // SIDE, axis=1)
    rgb = np.stack([np.floor(big * t + 0.5) for t in TINT], axis=-1).astype(np.uint8)
    colour = Image.fromarray(rgb, mode="RGB")
    stem = f"digit-{label}-{index}-{UPSCALED_SIDE}"
    return [
        (f"{stem}.jpg", encode(colour, "JPEG", quality=95), "64x64 colour JPEG q95"),
        (f"{stem}-rgb.png", encode(colour, "PNG", optimize=False), "64x64 RGB PNG"),
    ]


def evaluate_variants(pipelines, variants, label):
    """Predictions of every model on every variant, or None if one is wrong or unsure."""
    results = []
    for file_name, data, description in variants:
        tensor = ServerPipeline.preprocess(data)
        entry = {
            "file": file_name,
            "description": description,
            "label": int(label),
            "input": tensor.asnumpy().astype(np.uint8).reshape(-1).tolist(),
            "predictions": {},
        }
        for model_name, pipeline in pipelines.items():
            probabilities = pipeline.predict(tensor)
            top = int(probabilities.argmax())
            if top != label or probabilities[top] < MIN_SAMPLE_PROBABILITY:
                return None
            entry["predictions"][model_name] = {
                "class": str(top),
                "index": top,
                "probability": float(probabilities[top]),
                "probabilities": [float(p) for p in probabilities],
            }
        results.append((data, entry))
    return results


def write_samples(out_dir, model_folders, images, labels, test_idx):
    samples_dir = os.path.join(out_dir, "samples")
    os.makedirs(samples_dir, exist_ok=True)
    for old in os.listdir(samples_dir):
        if old.startswith("digit-") or old == "expected.json":
            os.remove(os.path.join(samples_dir, old))
    pipelines = {name: ServerPipeline(folder, name) for name, folder in model_folders.items()}

    chosen, used_labels = [], set()
    for index in test_idx:  # held-out digits only, in dataset order
        label = int(labels[index])
        if label in used_labels:
            continue
        variants = sample_variants(images[index], index, label)
        if len(used_labels) < UPSCALED_COUNT:
            variants += upscaled_variants(images[index], index, label)
        results = evaluate_variants(pipelines, variants, label)
        if results is None:
            continue
        chosen.extend(results)
        used_labels.add(label)
        if len(used_labels) == SAMPLE_COUNT:
            break
    if len(used_labels) < SAMPLE_COUNT:
        sys.exit(f"only {len(used_labels)} held-out digits are classified confidently by both models")

    for data, entry in chosen:
        with open(os.path.join(samples_dir, entry["file"]), "wb") as f:
            f.write(data)
        summary = ", ".join(
            f"{m} {p['class']} ({p['probability']:.4f})" for m, p in entry["predictions"].items()
        )
        print(f"  {entry['file']:24s} label {entry['label']}: {summary}")
    expected = {
        "description": "Held-out digits with MXNet's own top-1 on the seed's preprocessing.",
        "preprocessing": "mx.img.imdecode(bytes, flag=0) -> mx.img.imresize(img, 8, 8, 2) "
        "-> NCHW float32 0..255 (input: the 64 resized pixels, row-major)",
        "mxnet_version": mx.__version__,
        "models": sorted(model_folders),
        "samples": [entry for _, entry in chosen],
    }
    with open(os.path.join(samples_dir, "expected.json"), "w") as f:
        f.write(to_json(expected) + "\n")
    print(f"  wrote {len(chosen)} sample files and expected.json to {samples_dir}/")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out",
        default=os.path.dirname(os.path.abspath(__file__)),
        help="folder that receives digits-mlp/, digits-cnn/ and samples/ (default: examples/)",
    )
    parser.add_argument("--mlp-epochs", type=int, default=40)
    parser.add_argument("--cnn-epochs", type=int, default=30)
    args = parser.parse_args()

    images, labels, train_idx, test_idx = load_data()
    print(
        f"digits: {len(labels)} images {SIDE}x{SIDE}, train {len(train_idx)}, test {len(test_idx)} "
        f"(mxnet {mx.__version__}, seed {SEED})"
    )
    specs = [
        ("digits-mlp", make_mlp, args.mlp_epochs, 1e-3),
        ("digits-cnn", make_cnn, args.cnn_epochs, 1e-3),
    ]
    folders, accuracies = {}, {}
    for name, make, epochs, learning_rate in specs:
        print(f"training {name} ({epochs} epochs)")
        net = train(name, make(), images, labels, train_idx, epochs, learning_rate)
        train_acc = accuracy(net, images, labels, train_idx)
        test_acc = accuracy(net, images, labels, test_idx)
        accuracies[name] = test_acc
        print(f"  {name}: train accuracy {train_acc:.4f}, test accuracy {test_acc:.4f}")
        folders[name] = export(net, args.out, name)

    print("choosing samples")
    write_samples(args.out, folders, images, labels, test_idx)
    worst = min(accuracies.values())
    if worst < 0.95:
        sys.exit(f"test accuracy {worst:.4f} is below 0.95")


if __name__ == "__main__":
    main()
