"""GET /openapi.json: a valid OpenAPI 3.1 document that says exactly what each model takes and
returns, checked by reading it and by fuzzing the server with schemathesis against it.

The fuzz run is short by default (CI); DMS_SCHEMATHESIS_EXAMPLES raises the examples per
operation and DMS_SCHEMATHESIS_SEED picks another seed, for a long run on demand:
    DMS_SCHEMATHESIS_EXAMPLES=2000 pytest tests/e2e/test_openapi.py -k fuzz
"""

import os
import pathlib
import subprocess
import sys

import pytest
import requests
from openapi_spec_validator import validate

from conftest import EXAMPLES

HOOKS = pathlib.Path(__file__).resolve().parent / "schemathesis_hooks.py"
SCHEMATHESIS = pathlib.Path(sys.executable).parent / "schemathesis"


@pytest.fixture(scope="module")
def api_server(start_server, test_models):
    """An image classifier, a JSON model with two inputs (MXNet), one with an INT64 output
    (ONNX) and an image-output model."""
    server = start_server(
        "--models",
        f"digits={EXAMPLES / 'digits-mlp.model'}",
        f"add-mul={test_models['add-mul']}",
        f"add-scale={EXAMPLES / 'two-inputs-onnx'}",
        f"identity={test_models['identity-rgb']}",
    )
    yield server
    assert server.stop() == 0, server.output


@pytest.fixture(scope="module")
def document(api_server):
    response = requests.get(f"{api_server.url}/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    return response.json()


def test_document_is_valid_openapi_3_1(document, api_server):
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "/"}]  # wherever the document was fetched from
    assert set(document["paths"]) == {
        "/", "/ping", "/health/live", "/health/ready", "/statistics", "/api-description", "/openapi.json", "/metrics",
        "/digits/predict", "/add-mul/predict", "/add-scale/predict", "/identity/predict",
    }


def test_operation_ids_are_the_seeds(document):
    ids = {path: next(iter(item.values()))["operationId"] for path, item in document["paths"].items()}
    assert ids["/ping"] == "ping"
    assert ids["/"] == "playground"
    assert ids["/api-description"] == "apiDescription"
    assert ids["/digits/predict"] == "digits_predict"
    assert ids["/add-mul/predict"] == "add-mul_predict"


def test_image_model_takes_images(document):
    body = document["paths"]["/digits/predict"]["post"]["requestBody"]["content"]
    assert list(body) == ["multipart/form-data", "image/jpeg", "image/png"]
    form = body["multipart/form-data"]
    assert form["schema"]["required"] == ["input0"]
    assert form["schema"]["properties"]["input0"]["format"] == "binary"
    assert form["encoding"]["input0"]["contentType"] == "image/jpeg, image/png"
    answer = document["paths"]["/digits/predict"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    top = answer["properties"]["prediction"]["items"]
    assert top["maxItems"] == 5
    assert top["items"]["required"] == ["class", "probability"]


def test_json_model_documents_shapes_and_types(document):
    operation = document["paths"]["/add-scale/predict"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["input0", "input1"] and schema["additionalProperties"] is False
    batch, single = schema["properties"]["input0"]["anyOf"]
    assert batch["minItems"] == 1 and "maxItems" not in batch  # any batch size
    assert batch["items"]["minItems"] == batch["items"]["maxItems"] == 4
    assert single["minItems"] == single["maxItems"] == 4
    number = single["items"]
    assert number["type"] == "number" and number["exclusiveMaximum"] == pytest.approx(3.4028235677973366e38)
    outputs = operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["prediction"]
    entries = {entry["properties"]["name"]["const"]: entry for entry in outputs["items"]["anyOf"]}
    assert entries["argmax"]["properties"]["datatype"]["const"] == "INT64"
    assert entries["argmax"]["properties"]["data"]["items"]["type"] == "integer"
    assert entries["y"]["properties"]["datatype"]["const"] == "FP32"
    # Float outputs may be NaN or infinite, written as strings.
    assert entries["y"]["properties"]["data"]["items"]["anyOf"][1] == {"enum": ["NaN", "Infinity", "-Infinity"]}


def test_each_model_is_summarized_for_tools(document):
    summary = document["paths"]["/add-mul/predict"]["post"]["x-dms-model"]
    assert summary == {
        "state": "ready", "input_type": "application/json",
        "inputs": [{"field": "input0", "name": "a", "shape": [0, 4], "datatype": "FP32"}, {"field": "input1", "name": "b", "shape": [0, 4], "datatype": "FP32"}],
        "outputs": [{"name": "sum", "shape": [0, 4], "datatype": "FP32"}, {"name": "product", "shape": [0, 4], "datatype": "FP32"}],
        "answer": "tensors",
    }
    assert document["paths"]["/digits/predict"]["post"]["x-dms-model"]["answer"] == "classification"
    assert document["paths"]["/digits/predict"]["post"]["x-dms-model"]["top_k"] == 5


def test_image_output_model_documents_both_answers(document):
    answers = document["paths"]["/identity/predict"]["post"]["responses"]["200"]["content"]
    assert set(answers) == {"application/json", "image/jpeg"}


def test_every_error_status_has_the_error_body(document):
    responses = document["paths"]["/digits/predict"]["post"]["responses"]
    assert set(responses) == {"200", "400", "404", "413", "500", "501", "503", "504"}
    for status, response in responses.items():
        if status != "200":
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize("method,path", [("QUERY", "/ping"), ("PROPFIND", "/digits/predict"), ("PUT", "/openapi.json")])
def test_any_undeclared_method_is_405(api_server, method, path):
    response = requests.request(method, f"{api_server.url}{path}", timeout=10)
    assert response.status_code == 405
    assert response.headers["allow"] == ("POST" if path.endswith("predict") else "GET, HEAD")
    assert response.json()["type"] == "MethodNotAllowed"


def test_fuzzing_finds_no_mismatch(api_server, tmp_path):
    """Schemathesis' positive and negative phases with every check: no 5xx, no schema-valid
    request refused, no schema-invalid request accepted, every answer as documented, 405 for
    undeclared methods. (schemathesis_hooks.py says what JSON Schema cannot.)"""
    examples = os.environ.get("DMS_SCHEMATHESIS_EXAMPLES", "60")
    seed = os.environ.get("DMS_SCHEMATHESIS_SEED", "1")
    result = subprocess.run(
        [
            str(SCHEMATHESIS), "run", f"{api_server.url}/openapi.json",
            "--phases", "examples,coverage,fuzzing", "--mode", "all", "--checks", "all",
            "--max-examples", examples, "--seed", seed, "--workers", "1", "--no-color",
            "--report", "junit", "--report-dir", str(tmp_path),
        ],
        capture_output=True, text=True, cwd=tmp_path, timeout=1200,
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)},
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    assert "No issues found" in result.stdout, result.stdout[-5000:]
