#!/usr/bin/env python3
"""Train a tiny MXNet text classifier, to show a Python service that tokenizes text in
`_preprocess` and maps the outputs to labels in `_postprocess` (examples/text-topics/).

    .runtime/venv/bin/python examples/train_text_topics.py [--out examples/text-topics]

Data: sentences generated from three topics' vocabularies (weather, sport, food) mixed with
common words, with a fixed seed, so nothing is downloaded. Model: token embeddings averaged over
the sentence (padding masked out), one dense layer, a softmax. It takes a [N, 12] float32 tensor
of token ids (0 pads, 1 is an unknown word; MXNet's predict API takes float32) and returns
[N, 3] probabilities.

Writes OUT/: topics-symbol.json, topics-0000.params, signature.json, synset.txt, vocab.json.
"""

import argparse
import json
import os
import random

os.environ.setdefault("MXNET_ENGINE_TYPE", "NaiveEngine")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402
from mxnet import autograd, gluon  # noqa: E402

SEED = 20261203
LENGTH = 12
TOPICS = {
    "weather": "rain sunny cloud storm wind snow forecast cold warm temperature thunder umbrella humid fog breeze",
    "sport": "match goal team score player coach league tournament referee striker win season stadium race medal",
    "food": "recipe bread cheese soup dinner bake flavor spicy salad oven pasta dessert lunch kitchen sauce",
}
COMMON = "the a is was today very and it we our with at this for of on in".split()


def sentences(count, rng):
    """`count` (words, topic index) pairs: 4 to LENGTH words, 2 to 4 of them from the topic."""
    topics = list(TOPICS)
    result = []
    for _ in range(count):
        topic = rng.randrange(len(topics))
        words = rng.sample(TOPICS[topics[topic]].split(), rng.randint(2, 4))
        words += [rng.choice(COMMON) for _ in range(rng.randint(2, LENGTH - len(words)))]
        rng.shuffle(words)
        result.append((words, topic))
    return result


class TopicClassifier(gluon.HybridBlock):
    def __init__(self, vocabulary_size, **kwargs):
        super().__init__(prefix="topics_", **kwargs)
        with self.name_scope():
            self.embedding = gluon.nn.Embedding(vocabulary_size, 16)
            self.output = gluon.nn.Dense(len(TOPICS))

    def logits(self, F, x):
        mask = F.expand_dims(x > 0, axis=2)
        summed = F.sum(F.broadcast_mul(self.embedding(x), mask), axis=1)
        return self.output(F.broadcast_div(summed, F.maximum(F.sum(mask, axis=1), 1)))

    def hybrid_forward(self, F, x):
        return F.softmax(self.logits(F, x), axis=-1, name="softmax")


def encode(words, vocabulary):
    ids = [vocabulary.get(word, 1) for word in words][:LENGTH]
    return ids + [0] * (LENGTH - len(ids))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "text-topics"))
    args = parser.parse_args()
    random.seed(SEED)
    np.random.seed(SEED)
    mx.random.seed(SEED)
    rng = random.Random(SEED)
    words = sorted({w for topic in TOPICS.values() for w in topic.split()} | set(COMMON))
    vocabulary = {word: index + 2 for index, word in enumerate(words)}
    data = sentences(3000, rng)
    x = mx.nd.array([encode(s, vocabulary) for s, _ in data])
    y = mx.nd.array([t for _, t in data])

    net = TopicClassifier(len(vocabulary) + 2)
    net.initialize(mx.init.Xavier())
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.01})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    for epoch in range(10):
        for start in range(0, len(data), 64):
            with autograd.record():
                loss = loss_fn(net.logits(mx.nd, x[start:start + 64]), y[start:start + 64])
            loss.backward()
            trainer.step(min(64, len(data) - start))
    held_out = sentences(300, random.Random(SEED + 1))
    predicted = net(mx.nd.array([encode(s, vocabulary) for s, _ in held_out])).asnumpy().argmax(axis=1)
    print(f"held-out accuracy {float((predicted == np.array([t for _, t in held_out])).mean()):.3f}")

    os.makedirs(args.out, exist_ok=True)
    net.export(os.path.join(args.out, "topics"), epoch=0)
    (output_name,) = mx.sym.load(os.path.join(args.out, "topics-symbol.json")).list_outputs()
    signature = {
        "inputs": [{"data_name": "data", "data_shape": [0, LENGTH]}], "input_type": "application/json",
        "outputs": [{"data_name": output_name, "data_shape": [0, len(TOPICS)]}], "output_type": "application/json",
    }
    with open(os.path.join(args.out, "signature.json"), "w") as f:
        json.dump(signature, f, indent=2)
        f.write("\n")
    with open(os.path.join(args.out, "synset.txt"), "w") as f:
        f.write("".join(f"{topic}\n" for topic in TOPICS))
    with open(os.path.join(args.out, "vocab.json"), "w") as f:
        json.dump({"length": LENGTH, "padding": 0, "unknown": 1, "words": vocabulary}, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {args.out}: output '{output_name}'")


if __name__ == "__main__":
    main()
