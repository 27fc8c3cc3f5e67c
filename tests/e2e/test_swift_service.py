"""A server binary built on this package with a service written in Swift
(examples/swift-service, the `dms-iris-server` target): its service next to the built-ins."""

import json

import pytest
import requests

from conftest import EXAMPLES, SERVER_BINARY, assert_failed_start

IRIS_SERVER = SERVER_BINARY.parent / "dms-iris-server"
IRIS = EXAMPLES / "iris-onnx" / "iris.onnx"
SAMPLES = json.loads((EXAMPLES / "iris-onnx" / "samples.json").read_text())


@pytest.fixture(scope="module")
def iris_server(start_server):
    server = start_server(
        "--models", f"iris={IRIS}", f"digits={EXAMPLES / 'digits-mlp.model'}", "--service", "iris_service", wait=False, binary=IRIS_SERVER
    )
    # --service applies to every model: the digits model does not suit it, and says so.
    assert_failed_start(server, "digits", "iris_service serves a model with one input of 4 measurements")
    server = start_server("--models", f"iris={IRIS}", "--service", "iris_service", binary=IRIS_SERVER)
    yield server
    assert server.stop() == 0, server.output


@pytest.mark.parametrize("sample", SAMPLES["samples"], ids=lambda sample: f"row{sample['index']}")
def test_the_swift_service_answers_species_by_measurement_names(iris_server, sample):
    body = dict(zip(SAMPLES["features"], sample["input"]))
    response = requests.post(f"{iris_server.url}/iris/predict", json=body, timeout=30)
    assert response.status_code == 200, response.text
    prediction = response.json()["prediction"]
    best = max(range(3), key=lambda i: sample["outputs"]["probabilities"][i])
    assert prediction["species"] == SAMPLES["classes"][best]
    assert abs(prediction["probability"] - sample["outputs"]["probabilities"][best]) < 1e-6


def test_the_swift_service_reports_bad_input_as_the_server_does(iris_server):
    response = requests.post(f"{iris_server.url}/iris/predict", json={"sepal length (cm)": 5.1}, timeout=30)
    assert response.status_code == 400
    assert response.json()["type"] == "InvalidInput"
    assert "missing 'sepal width (cm)'" in response.json()["message"]
    fields = {feature: (None, "abc" if i == 2 else "1.5") for i, feature in enumerate(SAMPLES["features"])}
    response = requests.post(f"{iris_server.url}/iris/predict", files=fields, timeout=30)
    assert response.status_code == 400 and "'petal length (cm)' must be a number" in response.json()["message"]


def test_the_binary_keeps_the_built_in_services_and_lists_its_own(start_server):
    server = start_server("--models", f"digits={EXAMPLES / 'digits-mlp.model'}", binary=IRIS_SERVER)
    image = (EXAMPLES / "samples" / "digit-7-7.png").read_bytes()
    response = requests.post(f"{server.url}/digits/predict", files={"input0": ("d.png", image)}, timeout=30)
    assert response.status_code == 200 and len(response.json()["prediction"][0]) == 5
    assert server.stop() == 0, server.output
    refused = start_server("--models", f"digits={EXAMPLES / 'digits-mlp.model'}", "--service", "nope", wait=False, binary=IRIS_SERVER)
    refused.wait_for_exit(timeout=60)
    assert "not a service of this server (mxnet_vision_service, mxnet_model_service, iris_service)" in refused.output
    assert "See 'dms-iris-server --help'" in refused.output
