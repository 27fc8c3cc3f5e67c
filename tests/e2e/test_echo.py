"""The exact float tensor the vision pipeline feeds the engine, shown by echo models (an MXNet
graph whose output is its input, flattened), against the seed's pipeline in MXNet's Python."""

import os

os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")

import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import requests  # noqa: E402

from conftest import IMAGES  # noqa: E402

IMAGE_FILES = sorted(p.name for p in IMAGES.iterdir())


@pytest.fixture(scope="module")
def echo_server(start_server, test_models):
    server = start_server(
        "--service",
        "mxnet_model_service",
        "--models",
        *[f"{name}={path}" for name, path in test_models.items()],
    )
    yield server
    assert server.stop() == 0, server.output


def seed_pipeline(image_bytes, channels, height, width):
    """mx.img.imdecode -> mx.img.imresize(interp=2) -> NCHW float32, as the seed's service did."""
    decoded = mx.img.imdecode(image_bytes, flag=1 if channels == 3 else 0, to_rgb=True)
    resized = mx.img.imresize(decoded, width, height, 2)
    return resized.asnumpy().astype(np.float32).transpose(2, 0, 1)[np.newaxis]


@pytest.mark.parametrize("model,channels,size", [("echo-rgb", 3, 32), ("echo-gray", 1, 28), ("echo-gray-8", 1, 8)])
@pytest.mark.parametrize("image", IMAGE_FILES)
def test_echo_returns_exactly_the_seed_pipelines_tensor(echo_server, model, channels, size, image):
    image_bytes = (IMAGES / image).read_bytes()
    response = requests.post(f"{echo_server.url}/{model}/predict", files={"input0": (image, image_bytes)}, timeout=60)
    assert response.status_code == 200, response.text
    [output] = response.json()["prediction"]
    assert output["datatype"] == "FP32"
    assert output["shape"] == [1, channels * size * size]
    served = np.array(output["data"], dtype=np.float32)
    expected = seed_pipeline(image_bytes, channels, size, size).reshape(-1)
    assert np.array_equal(served, expected), f"{int((served != expected).sum())} of {expected.size} values differ"
