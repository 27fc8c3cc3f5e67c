"""The ONNX Runtime engine end to end: bare .onnx files with JSON tensors (int64 outputs, two
inputs), an ONNX image classifier beside its MXNet original, and both engines under concurrent
load in one process. Answers are checked against onnxruntime's own Python API."""

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnxruntime
import pytest
import requests

from conftest import EXAMPLES

IRIS = EXAMPLES / "iris-onnx" / "iris.onnx"
TWO_INPUTS = EXAMPLES / "two-inputs-onnx" / "add-scale.onnx"
IRIS_SAMPLES = json.loads((EXAMPLES / "iris-onnx" / "samples.json").read_text())["samples"]
TWO_INPUT_BATCH = json.loads((EXAMPLES / "two-inputs-onnx" / "samples.json").read_text())["batch"]
DIGIT_SAMPLES = json.loads((EXAMPLES / "samples" / "expected.json").read_text())["samples"]


def reference(model, feeds):
    session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, {k: np.asarray(v, dtype=np.float32) for k, v in feeds.items()})))


def outputs_by_name(response):
    assert response.status_code == 200, response.text
    return {output["name"]: output for output in response.json()["prediction"]}


@pytest.fixture(scope="module")
def onnx_server(start_server):
    server = start_server(
        "--models",
        f"iris={IRIS}",
        f"add-scale={TWO_INPUTS}",
        f"digits-onnx={EXAMPLES / 'digits-cnn-onnx'}",
        f"digits-mxnet={EXAMPLES / 'digits-cnn.model'}",
    )
    yield server
    assert server.stop() == 0, server.output


def test_bare_onnx_file_with_an_int64_output(onnx_server):
    rows = [sample["input"] for sample in IRIS_SAMPLES]
    expected = reference(IRIS, {"input": rows})
    outputs = outputs_by_name(requests.post(f"{onnx_server.url}/iris/predict", json={"input0": rows}, timeout=60))
    assert outputs["label"]["datatype"] == "INT64" and outputs["label"]["shape"] == [len(rows)]
    assert outputs["label"]["data"] == expected["label"].tolist()
    probabilities = np.array(outputs["probabilities"]["data"], dtype=np.float32).reshape(outputs["probabilities"]["shape"])
    assert np.abs(probabilities - expected["probabilities"]).max() < 1e-5


def test_single_row_gets_a_batch_of_one(onnx_server):
    outputs = outputs_by_name(requests.post(f"{onnx_server.url}/iris/predict", json=IRIS_SAMPLES[0]["input"], timeout=60))
    assert outputs["label"]["shape"] == [1]
    assert outputs["label"]["data"] == [IRIS_SAMPLES[0]["outputs"]["label"]]


def test_two_inputs_by_name_and_by_position(onnx_server):
    feeds = TWO_INPUT_BATCH["inputs"]
    expected = reference(TWO_INPUTS, feeds)
    for body in ({"x": feeds["x"], "scale": feeds["scale"]}, {"input0": feeds["x"], "input1": feeds["scale"]}):
        outputs = outputs_by_name(requests.post(f"{onnx_server.url}/add-scale/predict", json=body, timeout=60))
        assert np.array_equal(np.array(outputs["y"]["data"], dtype=np.float32).reshape(outputs["y"]["shape"]), expected["y"])
        assert outputs["argmax"]["data"] == expected["argmax"].tolist()


def test_bare_onnx_signature_is_read_from_the_model(onnx_server):
    paths = requests.get(f"{onnx_server.url}/api-description", timeout=10).json()["description"]["paths"]
    parameters = paths["/add-scale/predict"]["post"]["parameters"]
    assert [p["name"] for p in parameters] == ["input0", "input1"]
    assert "'x'" in parameters[0]["description"] and "'scale'" in parameters[1]["description"]


def test_wrong_shape_is_refused_before_the_engine(onnx_server):
    response = requests.post(f"{onnx_server.url}/add-scale/predict", json={"x": [[1, 2, 3]], "scale": [[1]]}, timeout=60)
    assert response.status_code == 400
    assert "'x'" in response.json()["message"]
    assert requests.post(f"{onnx_server.url}/iris/predict", json=IRIS_SAMPLES[0]["input"], timeout=60).status_code == 200


@pytest.mark.parametrize("sample", DIGIT_SAMPLES, ids=[s["file"] for s in DIGIT_SAMPLES])
def test_onnx_image_classifier_matches_its_mxnet_original(onnx_server, sample):
    image = (EXAMPLES / "samples" / sample["file"]).read_bytes()
    answers = {}
    for model in ("digits-onnx", "digits-mxnet"):
        response = requests.post(f"{onnx_server.url}/{model}/predict", files={"input0": ("d.png", image)}, timeout=60)
        assert response.status_code == 200, response.text
        answers[model] = response.json()["prediction"][0]
    assert [entry["class"] for entry in answers["digits-onnx"]] == [entry["class"] for entry in answers["digits-mxnet"]]
    for onnx_entry, mxnet_entry in zip(answers["digits-onnx"], answers["digits-mxnet"]):
        assert abs(onnx_entry["probability"] - mxnet_entry["probability"]) < 1e-4
    assert answers["digits-onnx"][0]["class"] == str(sample["label"])


def test_both_engines_serve_concurrently(onnx_server):
    image = (EXAMPLES / "samples" / "digit-7-7.png").read_bytes()
    row = IRIS_SAMPLES[0]["input"]

    def call(index):
        kind = index % 3
        if kind == 0:
            response = requests.post(f"{onnx_server.url}/digits-onnx/predict", files={"input0": ("d.png", image)}, timeout=60)
            return response.status_code, response.json()["prediction"][0][0]["class"] == "7"
        if kind == 1:
            response = requests.post(f"{onnx_server.url}/digits-mxnet/predict", files={"input0": ("d.png", image)}, timeout=60)
            return response.status_code, response.json()["prediction"][0][0]["class"] == "7"
        response = requests.post(f"{onnx_server.url}/iris/predict", json=row, timeout=60)
        return response.status_code, response.json()["prediction"][0]["data"] == [IRIS_SAMPLES[0]["outputs"]["label"]]

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(call, range(300)))
    assert all(status == 200 and right for status, right in results), [r for r in results if r != (200, True)][:5]
    assert requests.get(f"{onnx_server.url}/ping", timeout=10).status_code == 200
