#!/usr/bin/env python3
"""Train a digit classifier whose graph takes mean/std-normalized pixels, as most published
image models do, to show the server's declarative pipeline (`preprocess` in signature.json).

    .runtime/venv/bin/python examples/train_digits_normalized.py [--out examples]

Same data, split and seeds as examples/train_digits.py (scikit-learn's bundled 8x8 digits as
0..255 pixels). The network itself sees `(pixel / 255 - MEAN) / STD`, with MEAN and STD of the
training images; unlike the bundled digits models it does no scaling inside its graph. Its
signature.json says so:

    "preprocess": {"scale": 1/255, "mean": [MEAN], "std": [STD]}

so the server normalizes each decoded image before the engine sees it (served without the block,
the network would see values about 680 times larger than it was trained on). The end-to-end tests
check the server's answers against MXNet's Python on the same normalized tensors.

Writes OUT/digits-normalized/: digits-normalized-symbol.json, digits-normalized-0000.params,
signature.json, synset.txt (re-created on every run, with fixed seeds).
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_digits  # noqa: E402  (sets MXNet's threads before importing it)
from train_digits import NUM_CLASSES, SIDE, export, load_data, train  # noqa: E402

import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402
from mxnet import gluon  # noqa: E402


class NormalizedClassifier(gluon.HybridBlock):
    """Normalized pixels in, class probabilities out (a softmax named ``softmax`` last)."""

    def __init__(self, features, **kwargs):
        super().__init__(prefix="", **kwargs)
        with self.name_scope():
            self.features = features

    def logits(self, x):
        return self.features(x)

    def hybrid_forward(self, F, x):
        return F.softmax(self.features(x), axis=-1, name="softmax")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = parser.parse_args()
    images, labels, train_idx, test_idx = load_data()
    scaled = images.astype(np.float32) / 255.0
    mean = round(float(scaled[train_idx].mean()), 3)
    std = round(float(scaled[train_idx].std()), 3)
    normalized = (scaled - mean) / std
    print(f"training digits-normalized (mean {mean}, std {std})")

    features = gluon.nn.HybridSequential(prefix="norm_")
    with features.name_scope():
        features.add(gluon.nn.Dense(64, activation="relu"))
        features.add(gluon.nn.Dense(NUM_CLASSES))
    net = train("digits-normalized", NormalizedClassifier(features), normalized, labels, train_idx, epochs=40, learning_rate=0.003)
    predicted = net(mx.nd.array(normalized[test_idx].reshape(-1, 1, SIDE, SIDE))).asnumpy().argmax(axis=1)
    print(f"  test accuracy {float((predicted == labels[test_idx]).mean()):.3f}")

    folder = export(net, args.out, "digits-normalized")
    path = os.path.join(folder, "signature.json")
    with open(path) as f:
        signature = json.load(f)
    signature["inputs"][0]["preprocess"] = {"scale": 1 / 255, "mean": [mean], "std": [std]}
    with open(path, "w") as f:
        f.write(train_digits.to_json(signature) + "\n")


if __name__ == "__main__":
    main()
