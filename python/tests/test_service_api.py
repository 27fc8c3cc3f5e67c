"""The seed's service API as the `dms` and `mms` packages give it, without the server."""

import json

import mxnet as mx
import numpy as np
import pytest

from dms import model_service
from dms.mxnet_utils import image, ndarray, nlp


def test_both_spellings_are_the_same_classes():
    from dms.mxnet_model_service import MXNetBaseService
    from dms.mxnet_vision_service import MXNetVisionService
    from mms.model_service.model_service import ModelService, SingleNodeService
    from mms.model_service.mxnet_model_service import MXNetBaseService as Released
    from mms.model_service.mxnet_vision_service import MXNetVisionService as ReleasedVision
    from mms.utils.mxnet import image as released_image

    assert Released is MXNetBaseService and ReleasedVision is MXNetVisionService
    assert issubclass(MXNetBaseService, SingleNodeService) and issubclass(SingleNodeService, ModelService)
    assert released_image.resize is image.resize


def test_both_init_forms_find_the_model(tmp_path):
    from dms.mxnet_model_service import MXNetBaseService

    (tmp_path / "signature.json").write_text(json.dumps({"inputs": [{"data_name": "x", "data_shape": [0, 2]}]}))
    (tmp_path / "synset.txt").write_text("a\nb\n")
    model_service._loading = {}
    readme_form = MXNetBaseService(str(tmp_path), None, mx.cpu())
    release_form = MXNetBaseService("m", str(tmp_path), {"Model": {}}, None)
    for service in (readme_form, release_form):
        assert service.signature["inputs"][0]["data_name"] == "x"
        assert service.labels == ["a", "b"]
    assert release_form.model_name == "m"


def test_image_helpers_shape_an_image_for_nchw():
    rgb = mx.nd.array(np.arange(4 * 6 * 3).reshape(4, 6, 3), dtype="uint8")
    resized = image.resize(rgb, 3, 2)
    assert resized.shape == (2, 3, 3)
    assert image.transform_shape(resized).shape == (1, 3, 2, 3)
    assert image.transform_shape(resized, "NHWC").shape == (1, 2, 3, 3)
    assert image.fixed_crop(rgb, 1, 1, 2, 2).shape == (2, 2, 3)
    normalized = image.color_normalize(rgb, [1, 2, 3], [2, 2, 2])
    assert normalized.asnumpy()[0, 0].tolist() == [-0.5, -0.5, -0.5]


def test_write_encodes_what_read_decodes():
    rgb = mx.nd.array(np.tile(np.array([10, 200, 90], dtype=np.uint8), (6, 4, 1)), dtype="uint8")
    import base64

    png = base64.b64decode(image.write(image.transform_shape(rgb)[0], format="png"))
    assert image.read(png).asnumpy().tolist() == rgb.asnumpy().tolist()
    gray = base64.b64decode(image.write(mx.nd.array(np.full((5, 3, 1), 77, dtype=np.uint8)), flag=0, format="png", dim_order="HWC"))
    assert image.read(gray, flag=0).asnumpy()[:, :, 0].tolist() == [[77] * 3] * 5


def test_top_probability_orders_and_labels():
    top = ndarray.top_probability(mx.nd.array([[0.1, 0.6, 0.3]]), ["a", "b", "c"], top=2)
    assert [entry["class"] for entry in top] == ["b", "c"]
    assert top[0]["probability"] == pytest.approx(0.6)


def test_sentences_encode_and_pad_into_buckets():
    encoded, vocab = nlp.encode_sentences([["the", "cat"], ["the", "dog", "ran"]], invalid_label=0, start_label=1)
    assert encoded == [[1, 2], [1, 3, 4]]
    assert vocab["dog"] == 3
    padded = nlp.pad_sentence(encoded[0], [4, 8], invalid_label=0)
    assert padded.shape == (1, 4) and padded.asnumpy().tolist() == [[1, 2, 0, 0]]
    with pytest.raises(ValueError):
        nlp.pad_sentence(list(range(9)), [4, 8])
