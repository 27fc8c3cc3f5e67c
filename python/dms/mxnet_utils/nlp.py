"""Text helpers for services, with the seed's names."""

import bisect

import mxnet as mx
import numpy as np


def encode_sentences(sentences, vocab=None, invalid_label=-1, invalid_key="\n", start_label=0):
    """Token lists to integer lists and the vocabulary used (built from the sentences when not
    given): MXNet's `mx.rnn.encode_sentences`."""
    return mx.rnn.encode_sentences(sentences, vocab=vocab, invalid_label=invalid_label, invalid_key=invalid_key, start_label=start_label)


def pad_sentence(sentence, buckets, invalid_label=-1, data_shape=None):
    """An encoded sentence padded with `invalid_label` to the smallest bucket that holds it, as a
    float32 NDArray of shape (1, bucket), or `data_shape` when given."""
    index = bisect.bisect_left(sorted(buckets), len(sentence))
    if index == len(buckets):
        raise ValueError(f"a sentence of {len(sentence)} tokens is longer than the largest bucket ({max(buckets)})")
    padded = np.full((sorted(buckets)[index],), invalid_label, dtype=np.float32)
    padded[:len(sentence)] = sentence
    array = mx.nd.array(padded.reshape(1, -1))
    return array.reshape(data_shape) if data_shape is not None else array
