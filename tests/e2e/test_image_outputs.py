"""Image outputs (output_type image/jpeg): an MXNet identity model returns the preprocessed
input as a JPEG, base64 in JSON or as raw image/jpeg bytes when the client asks for them."""

import base64
import io
import os

os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")

import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import requests  # noqa: E402
from PIL import Image  # noqa: E402

from conftest import IMAGES  # noqa: E402

IMAGE = (IMAGES / "shrink.jpg").read_bytes()


@pytest.fixture(scope="module")
def identity_server(start_server, test_models):
    server = start_server("--models", f"identity={test_models['identity-rgb']}")
    yield server
    assert server.stop() == 0, server.output


# JPEG at quality 95 is lossy: on this noisy 32 x 32 image the mean error is about 3 levels of
# 255; a wrong layout or channel order would be off by tens.
def expected_pixels():
    return mx.img.imresize(mx.img.imdecode(IMAGE, flag=1, to_rgb=True), 32, 32, 2).asnumpy().astype(np.int16)


def decoded(jpeg_bytes):
    image = Image.open(io.BytesIO(jpeg_bytes))
    assert image.format == "JPEG" and image.size == (32, 32) and image.mode == "RGB"
    return np.asarray(image).astype(np.int16)


def test_image_output_as_base64_json(identity_server):
    response = requests.post(f"{identity_server.url}/identity/predict", files={"input0": ("i.jpg", IMAGE)}, timeout=60)
    assert response.status_code == 200, response.text
    [output] = response.json()["prediction"]
    assert output["content_type"] == "image/jpeg" and output["shape"] == [1, 3, 32, 32]
    pixels = decoded(base64.b64decode(output["data"][0]))
    assert np.abs(pixels - expected_pixels()).mean() < 6


def test_image_output_as_raw_jpeg(identity_server):
    response = requests.post(
        f"{identity_server.url}/identity/predict", files={"input0": ("i.jpg", IMAGE)}, headers={"Accept": "image/jpeg"}, timeout=60
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert np.abs(decoded(response.content) - expected_pixels()).mean() < 6
