"""NDArray helpers for services, with the seed's names."""

import numpy as np


def top_probability(data, labels, top=5):
    """The `top` largest values of a row of probabilities, largest first, with their labels:
    [{"class": label, "probability": p}, ...]."""
    values = data.asnumpy().reshape(-1) if hasattr(data, "asnumpy") else np.asarray(data).reshape(-1)
    order = np.argsort(-values, kind="stable")[:top]
    return [{"class": labels[i] if i < len(labels) else str(i), "probability": float(values[i])} for i in order]
