"""JSON tensor inputs (input_type application/json) served by the real MXNet engine through an
echo model: every way of sending them, and every way of getting them wrong."""

import json

import numpy as np
import pytest
import requests


@pytest.fixture(scope="module")
def json_server(start_server, test_models):
    server = start_server("--models", f"echo={test_models['echo-json']}")
    yield server
    assert server.stop() == 0, server.output


VALUES = (np.arange(64, dtype=np.float32) / 7 - 3).reshape(1, 1, 8, 8)


def echoed(response):
    assert response.status_code == 200, response.text
    [output] = response.json()["prediction"]
    assert output["datatype"] == "FP32" and output["shape"] == [1, 64]
    return np.array(output["data"], dtype=np.float32)


def post(server, **kwargs):
    return requests.post(f"{server.url}/echo/predict", timeout=60, **kwargs)


def test_every_way_of_sending_a_tensor(json_server):
    nested = VALUES.tolist()
    expected = VALUES.reshape(-1)
    forms = [
        {"files": {"input0": (None, json.dumps(nested))}},
        {"files": {"data": ("t.json", json.dumps(nested), "application/json")}},
        {"json": {"input0": nested}},
        {"json": {"data": nested}},
        {"json": nested},
        {"json": nested[0]},
    ]
    for form in forms:
        assert np.array_equal(echoed(post(json_server, **form)), expected), form


def test_a_batch_of_two(json_server):
    batch = np.concatenate([VALUES, VALUES + 1])
    response = post(json_server, json=batch.tolist())
    assert response.status_code == 200, response.text
    [output] = response.json()["prediction"]
    assert output["shape"] == [2, 64]
    assert np.array_equal(np.array(output["data"], dtype=np.float32), batch.reshape(-1))


@pytest.mark.parametrize(
    "body,fragment",
    [
        ([[[[1, 2]], [[3]]]], "ragged"),
        ([[[["a"] * 8] * 8]], "not a number"),
        ([[1, 2, 3]], "shaped [0, 1, 8, 8]"),
        ([[[[1.0] * 7] * 8]], "shaped [0, 1, 8, 8]"),
        ({"input3": [1]}, "unexpected field 'input3'"),
        ({}, "object of inputs"),
    ],
    ids=["ragged", "non-number", "wrong-rank", "wrong-size", "unknown-input", "empty-object"],
)
def test_bad_tensors_are_400_naming_the_input_and_shape(json_server, body, fragment):
    response = post(json_server, json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["type"] == "InvalidInput"
    assert fragment in error["message"], error["message"]


def test_malformed_json_body(json_server):
    response = post(json_server, data=b"[[1, 2", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["type"] == "InvalidInput"


def test_mxnet_model_with_two_inputs_and_two_outputs(start_server, test_models):
    server = start_server("--models", f"add-mul={test_models['add-mul']}")
    a = [[1.5, -2.0, 3.0, 0.25], [4.0, 5.0, 6.0, 7.0]]
    b = [[2.0, 0.5, -1.0, 8.0], [1.0, 1.0, 1.0, 1.0]]
    for body in ({"a": a, "b": b}, {"input0": a, "input1": b}):
        response = requests.post(f"{server.url}/add-mul/predict", json=body, timeout=60)
        assert response.status_code == 200, response.text
        outputs = {o["name"]: np.array(o["data"], dtype=np.float32).reshape(o["shape"]) for o in response.json()["prediction"]}
        assert np.array_equal(outputs["sum"], np.add(a, b, dtype=np.float32))
        assert np.array_equal(outputs["product"], np.multiply(a, b, dtype=np.float32))
    uneven = requests.post(f"{server.url}/add-mul/predict", json={"a": a, "b": b + b}, timeout=60)
    assert uneven.status_code == 400 and "different batch sizes" in uneven.json()["message"]
    missing = requests.post(f"{server.url}/add-mul/predict", json={"a": a}, timeout=60)
    assert missing.status_code == 400 and "missing input1 ('b')" in missing.json()["message"]
    assert server.stop() == 0
