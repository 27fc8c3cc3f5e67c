"""GET /ping both ways, GET /api-description validity, and fail-fast start-up."""

import zipfile

import requests
from openapi_spec_validator import validate

from conftest import EXAMPLES, assert_failed_start


def test_ping_when_every_model_is_ready(digits_server):
    response = requests.get(f"{digits_server.url}/ping", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"health": "healthy!"}


def test_api_description_is_valid_swagger_with_every_model(digits_server):
    response = requests.get(f"{digits_server.url}/api-description", timeout=10)
    assert response.status_code == 200
    description = response.json()["description"]
    validate(description)
    assert description["swagger"] == "2.0"
    assert description["host"] == digits_server.url.removeprefix("http://")
    assert set(description["paths"]) == {"/api-description", "/ping", "/statistics", "/digits-mlp/predict", "/digits-cnn/predict"}
    parameters = description["paths"]["/digits-cnn/predict"]["post"]["parameters"]
    assert [p["name"] for p in parameters] == ["input0"]
    assert "[1, 8, 8]" in parameters[0]["description"]


def test_probes_when_every_model_is_ready(digits_server):
    live = requests.get(f"{digits_server.url}/health/live", timeout=10)
    assert live.status_code == 200 and live.json() == {"status": "alive"}
    ready = requests.get(f"{digits_server.url}/health/ready", timeout=10)
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}
    assert requests.head(f"{digits_server.url}/health/ready", timeout=10).status_code == 200


def broken_archive(folder):
    path = folder / "broken.model"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("m-symbol.json", "{}")
        archive.writestr("m-0000.params", "x")
        archive.writestr("signature.json", '{"inputs": []}')
    return path


def test_ping_reports_models_that_failed(start_server, tmp_path):
    server = start_server("--allow-model-failures", "--models", f"good={EXAMPLES / 'digits-mlp.model'}", f"bad={broken_archive(tmp_path)}")
    response = requests.get(f"{server.url}/ping", timeout=10)
    assert response.status_code == 503
    body = response.json()
    assert body["health"] == "unhealthy!"
    assert set(body["models"]) == {"bad"}
    assert "signature.json" in body["models"]["bad"]
    # The probes: alive, but not ready while a model has failed.
    assert requests.get(f"{server.url}/health/live", timeout=10).status_code == 200
    ready = requests.get(f"{server.url}/health/ready", timeout=10)
    assert ready.status_code == 503
    assert ready.json()["status"] == "not ready" and ready.json()["models"]["bad"].startswith("failed: ")
    validate(requests.get(f"{server.url}/api-description", timeout=10).json()["description"])
    assert server.stop() == 0


def test_start_fails_fast_naming_the_model(start_server, tmp_path):
    server = start_server("--models", f"good={EXAMPLES / 'digits-mlp.model'}", f"bad={broken_archive(tmp_path)}", wait=False)
    output = assert_failed_start(server, "models failed to load: bad: ", "signature.json")
    assert "good:" not in output.split("models failed to load:", 1)[1], output


def test_missing_archive_fails_fast(start_server, tmp_path):
    server = start_server("--models", f"gone={tmp_path / 'gone.model'}", wait=False)
    assert_failed_start(server, "models failed to load: gone: ", "no such file")


def test_missing_engine_library_is_a_clear_load_error(start_server):
    server = start_server("--models", f"m={EXAMPLES / 'digits-mlp.model'}", env={"DMS_MXNET_LIBRARY": "/nonexistent/libmxnet.so"}, wait=False)
    assert_failed_start(server, "models failed to load: m: ", "libmxnet.so", "bootstrap")
