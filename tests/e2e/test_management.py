"""The management API (its own listener): list, describe, register (synchronously and in the
background), change settings, unregister, with every failure path; the allow-list for
registration sources; bearer tokens on both APIs; and concurrent changes under load."""

import concurrent.futures
import json
import os
import threading
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import EXAMPLES, USAGE_EXIT, assert_no_crash_signs, resident_kib, wait_for

SAMPLE = (EXAMPLES / "samples" / "digit-7-7.png").read_bytes()
DIGITS = EXAMPLES / "digits-mlp.model"


def predict_digit(server, model, **kwargs):
    return requests.post(f"{server.url}/{model}/predict", files={"input0": ("d.png", SAMPLE, "image/png")}, timeout=30, **kwargs)


def register(server, body, **kwargs):
    return requests.post(f"{server.management_url}/models", json=body, timeout=120, **kwargs)


def metric_models(server, **kwargs):
    text = requests.get(f"{server.url}/metrics", timeout=10, **kwargs).text
    return {sample.labels.get("model") for family in text_string_to_metric_families(text) for sample in family.samples} - {None}


def assert_error(response, status, error_type, *fragments):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status and body["type"] == error_type, body
    for fragment in fragments:
        assert fragment in body["message"], body


@pytest.fixture(scope="module")
def big_model(tmp_path_factory):
    """A one-layer MXNet model with 64 MiB of weights (4096 x 4096 FP32), JSON in and out,
    to make the memory an unregistration frees visible."""
    import mxnet as mx

    folder = tmp_path_factory.mktemp("big")
    data = mx.sym.var("data")
    mx.sym.FullyConnected(data, num_hidden=4096, name="fc").save(str(folder / "big-symbol.json"))
    mx.nd.save(str(folder / "big-0000.params"), {
        "arg:fc_weight": mx.nd.random.uniform(-0.01, 0.01, shape=(4096, 4096)), "arg:fc_bias": mx.nd.zeros(4096),
    })
    (folder / "signature.json").write_text(json.dumps({
        "inputs": [{"data_name": "data", "data_shape": [0, 4096]}], "input_type": "application/json",
        "outputs": [{"data_name": "fc_output", "data_shape": [0, 4096]}], "output_type": "application/json",
    }))
    return folder


@pytest.fixture(scope="module")
def server(start_server):
    server = start_server("--models", f"digits={DIGITS}")
    yield server
    assert server.stop() == 0, server.output


def test_lists_and_describes_the_models(server):
    listed = requests.get(f"{server.management_url}/models", timeout=10).json()
    assert listed == {"models": [{"name": "digits", "state": "ready", "location": str(DIGITS)}], "failed_registrations": []}
    described = requests.get(f"{server.management_url}/models/digits", timeout=10).json()
    assert described["engine"] == "MXNet" and described["service"] == "VisionService" and described["answer"] == "classification"
    assert described["inputs"] == [{"field": "input0", "name": "data", "shape": [0, 1, 8, 8], "datatype": "FP32"}]
    assert described["settings"] == {"workers": 1, "max_batch_size": 8, "max_batch_delay_ms": 0, "queue_size": 100, "queue_wait_ms": 250}
    assert set(described["statistics"]) >= {"requests", "engine_calls", "queued", "running", "rejected"}
    assert_error(requests.get(f"{server.management_url}/models/nope", timeout=10), 404, "ModelNotFound", "no model named 'nope'")
    assert_error(requests.put(f"{server.management_url}/models/digits", timeout=10), 405, "MethodNotAllowed")
    assert_error(requests.get(f"{server.management_url}/elsewhere", timeout=10), 404, "NotFound")
    # The inference API does not serve the management routes.
    assert requests.get(f"{server.url}/models", timeout=10).status_code == 404


def test_a_registered_model_is_served_everywhere_then_unregistered(server):
    response = register(server, {"name": "mlp2", "location": str(DIGITS), "workers": 2, "max_batch_size": 4})
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/models/mlp2"
    assert response.json()["state"] == "ready" and response.json()["settings"]["workers"] == 2
    answer = predict_digit(server, "mlp2")
    assert answer.status_code == 200 and answer.json()["prediction"][0][0]["class"] == "7"
    assert requests.get(f"{server.url}/ping", timeout=10).json() == {"health": "healthy!"}
    assert "/mlp2/predict" in requests.get(f"{server.url}/api-description", timeout=10).json()["description"]["paths"]
    assert "/mlp2/predict" in requests.get(f"{server.url}/openapi.json", timeout=10).json()["paths"]
    assert requests.get(f"{server.url}/statistics", timeout=10).json()["models"]["mlp2"]["requests"] == 1
    assert "mlp2" in metric_models(server)

    assert_error(register(server, {"name": "mlp2", "location": str(DIGITS)}), 409, "Conflict", "already registered")
    assert_error(register(server, {"name": "digits", "location": str(DIGITS)}), 409, "Conflict")

    response = requests.delete(f"{server.management_url}/models/mlp2", timeout=60)
    assert response.status_code == 200 and response.json() == {"status": "unregistered", "name": "mlp2"}
    assert_error(predict_digit(server, "mlp2"), 404, "ModelNotFound")
    assert "mlp2" not in requests.get(f"{server.url}/statistics", timeout=10).json()["models"]
    assert "mlp2" not in metric_models(server)
    assert_error(requests.delete(f"{server.management_url}/models/mlp2", timeout=10), 404, "ModelNotFound")
    # The name is free again, and its metrics start from zero.
    assert register(server, {"name": "mlp2", "location": str(DIGITS)}).status_code == 201
    assert requests.get(f"{server.url}/statistics", timeout=10).json()["models"]["mlp2"]["requests"] == 0
    assert requests.delete(f"{server.management_url}/models/mlp2", timeout=60).status_code == 200


def test_registration_refuses_bad_requests(server):
    before = requests.get(f"{server.management_url}/models", timeout=10).json()
    cases = [
        ({"location": str(DIGITS)}, "'name' must be a non-empty string"),
        ({"name": "x"}, "'location' must be a non-empty string"),
        ({"name": "x", "location": str(DIGITS), "wokers": 2}, "unknown member 'wokers'"),
        ({"name": "x", "location": str(DIGITS), "workers": 0}, "'workers' must be a whole number in 1...64"),
        ({"name": "x", "location": str(DIGITS), "workers": 1.5}, "'workers' must be a whole number"),
        ({"name": "x", "location": str(DIGITS), "workers": True}, "'workers' must be a whole number"),
        ({"name": "x", "location": str(DIGITS), "synchronous": "yes"}, "'synchronous' must be true or false"),
        ({"name": "ping", "location": str(DIGITS)}, "cannot name a model"),
        ({"name": "a/b", "location": str(DIGITS)}, "not a valid model name"),
        ({"name": "x", "location": "ftp://host/x.model"}, "is not supported"),
    ]
    for body, fragment in cases:
        response = register(server, body)
        assert response.status_code in (400, 501), (body, response.text)
        assert fragment in response.json()["message"], (body, response.text)
    for raw in (b"not json", b"[1, 2]", b""):
        assert_error(requests.post(f"{server.management_url}/models", data=raw, timeout=10), 400, "InvalidInput", "JSON object")
    as_text = requests.post(f"{server.management_url}/models", data=json.dumps({"name": "x", "location": str(DIGITS)}),
                            headers={"Content-Type": "text/plain"}, timeout=10)
    assert_error(as_text, 400, "InvalidInput", "Content-Type: application/json")
    huge = {"name": "x", "location": "/" + "a" * (64 << 10)}
    assert_error(register(server, huge), 413, "PayloadTooLarge", "the limit is 65536")
    chunked = requests.post(f"{server.management_url}/models", data=(b" " * 8192 for _ in range(10)), timeout=10)
    assert_error(chunked, 413, "PayloadTooLarge", "larger than the limit of 65536 bytes")
    assert requests.get(f"{server.management_url}/models", timeout=10).json() == before


def test_a_failed_registration_leaves_the_server_as_it_was(server, tmp_path):
    broken = tmp_path / "broken.model"
    broken.write_bytes(b"this is no zip archive")
    before_models = requests.get(f"{server.management_url}/models", timeout=10).json()
    before_metrics = metric_models(server)
    response = register(server, {"name": "broken", "location": str(broken)})
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "InvalidModel" and "broken.model" in response.json()["message"]
    missing = register(server, {"name": "missing", "location": str(tmp_path / "missing.model")})
    assert_error(missing, 400, "InvalidModel", "no such file")
    assert requests.get(f"{server.management_url}/models", timeout=10).json() == before_models
    assert metric_models(server) == before_metrics
    assert requests.get(f"{server.url}/ping", timeout=10).json() == {"health": "healthy!"}
    assert requests.get(f"{server.url}/health/ready", timeout=10).status_code == 200


def test_background_registration_reports_success_and_failure(server, tmp_path):
    response = register(server, {"name": "later", "location": str(DIGITS), "synchronous": False})
    assert response.status_code == 202, response.text
    assert response.json()["state"] in ("loading", "ready")
    assert wait_for(lambda: requests.get(f"{server.management_url}/models/later", timeout=10).json()["state"] == "ready")
    assert predict_digit(server, "later").status_code == 200
    assert requests.delete(f"{server.management_url}/models/later", timeout=60).status_code == 200

    broken = tmp_path / "broken.model"
    broken.write_bytes(b"PK\x03\x04 but not really")
    assert register(server, {"name": "doomed", "location": str(broken), "synchronous": False}).status_code == 202
    assert wait_for(lambda: requests.get(f"{server.management_url}/models/doomed", timeout=10).status_code == 404)
    assert_error(requests.get(f"{server.management_url}/models/doomed", timeout=10), 404, "ModelNotFound", "its registration failed")
    failures = requests.get(f"{server.management_url}/models", timeout=10).json()["failed_registrations"]
    assert [failure["name"] for failure in failures] == ["doomed"]
    assert_error(predict_digit(server, "doomed"), 404, "ModelNotFound")


def test_changing_settings(server):
    url = f"{server.management_url}/models/digits"
    response = requests.patch(url, json={"workers": 2, "max_batch_size": 4, "max_batch_delay_ms": 5, "queue_size": 50, "queue_wait_ms": 100}, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json()["settings"] == {"workers": 2, "max_batch_size": 4, "max_batch_delay_ms": 5, "queue_size": 50, "queue_wait_ms": 100}
    statistics = requests.get(f"{server.url}/statistics", timeout=10).json()["models"]["digits"]
    assert statistics["workers"] == 2 and statistics["queue_size"] == 50
    assert predict_digit(server, "digits").status_code == 200
    # Members not given keep their values.
    response = requests.patch(url, json={"workers": 1}, timeout=60)
    assert response.json()["settings"] == {"workers": 1, "max_batch_size": 4, "max_batch_delay_ms": 5, "queue_size": 50, "queue_wait_ms": 100}
    assert_error(requests.patch(url, json={"queue_size": 0}, timeout=10), 400, "InvalidInput", "'queue_size'")
    assert_error(requests.patch(url, json={"name": "other"}, timeout=10), 400, "InvalidInput", "unknown member 'name'")
    assert_error(requests.patch(f"{server.management_url}/models/nope", json={"workers": 1}, timeout=10), 404, "ModelNotFound")
    requests.patch(url, json={"max_batch_size": 8, "max_batch_delay_ms": 0, "queue_size": 100, "queue_wait_ms": 250}, timeout=60)


def test_unregistering_frees_the_engine_memory(server, big_model):
    before = resident_kib(server)
    assert register(server, {"name": "big", "location": str(big_model)}).status_code == 201
    answer = requests.post(f"{server.url}/big/predict", json={"data": [[0.5] * 4096]}, timeout=60)
    assert answer.status_code == 200, answer.text
    loaded = resident_kib(server)
    assert requests.delete(f"{server.management_url}/models/big", timeout=60).status_code == 200
    after = resident_kib(server)
    print(f"RSS: {before} KiB before, {loaded} KiB with the 64 MiB model, {after} KiB after unregistering")
    assert loaded - before > 64 * 1024, (before, loaded)
    # Most of what the model took is given back (allocator caches keep a little).
    assert loaded - after > 0.75 * (loaded - before), (before, loaded, after)


def test_registration_sources_are_limited_by_the_allow_list(start_server, origin):
    origin.put("/models/digits.model", DIGITS.read_bytes())
    default = start_server("--models", f"digits={DIGITS}")
    assert_error(register(default, {"name": "remote", "location": f"{origin.url}/models/digits.model"}), 403, "Forbidden", "not allowed")
    assert origin.requests == []
    default.stop()

    allowed = start_server("--models", f"digits={DIGITS}", "--allowed-urls", f"{origin.url}/models/")
    assert register(allowed, {"name": "remote", "location": f"{origin.url}/models/digits.model"}).status_code == 201
    assert predict_digit(allowed, "remote").status_code == 200
    assert_error(register(allowed, {"name": "up", "location": f"{origin.url}/models/../secret.model"}), 403, "Forbidden")
    assert_error(register(allowed, {"name": "local", "location": str(DIGITS)}), 403, "Forbidden")

    # An allowed URL that redirects is not followed: the allow-list checked this URL, not the next.
    def redirect(handler):
        handler.send_response(302)
        handler.send_header("Location", f"{origin.url}/elsewhere/digits.model")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    origin.behaviours["/models/moved.model"] = redirect
    origin.put("/elsewhere/digits.model", DIGITS.read_bytes())
    response = register(allowed, {"name": "moved", "location": f"{origin.url}/models/moved.model"})
    assert response.status_code >= 400, response.text
    assert "/elsewhere/digits.model" not in [path for path, _ in origin.requests]
    allowed.stop()


def test_tokens(start_server, tmp_path):
    management_token, inference_token = "m-4f1c9e0d7b", "i-8a2b6c3d5e"
    token_file = tmp_path / "management.token"
    token_file.write_text(management_token + "\n")
    log = tmp_path / "server.log"
    server = start_server(
        "--models", f"digits={DIGITS}", "--management-token-file", token_file, "--log-level", "DEBUG", log_file=log,
        env={"DMS_INFERENCE_TOKEN": inference_token},
    )
    models = f"{server.management_url}/models"
    missing = requests.get(models, timeout=10)
    assert_error(missing, 401, "Unauthorized", "Authorization: Bearer")
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert_error(requests.get(models, headers={"Authorization": "Basic YTpi"}, timeout=10), 401, "Unauthorized")
    assert_error(requests.get(models, headers={"Authorization": "Bearer wrong"}, timeout=10), 403, "Forbidden")
    assert_error(requests.get(models, headers={"Authorization": f"Bearer {inference_token}"}, timeout=10), 403, "Forbidden")
    assert requests.get(models, headers={"Authorization": f"Bearer {management_token}"}, timeout=10).status_code == 200

    inference = {"Authorization": f"Bearer {inference_token}"}
    assert_error(requests.get(f"{server.url}/ping", timeout=10), 401, "Unauthorized")
    assert_error(predict_digit(server, "digits"), 401, "Unauthorized")
    assert_error(predict_digit(server, "digits", headers={"Authorization": f"Bearer {management_token}"}), 403, "Forbidden")
    assert predict_digit(server, "digits", headers=inference).status_code == 200
    assert requests.get(f"{server.url}/ping", headers=inference, timeout=10).status_code == 200
    # Kubernetes' probes need no token, with or without a trailing slash; the rest of v2 does,
    # answered in the protocol's error shape.
    for probe in ("/health/live", "/health/ready", "/v2/health/live", "/v2/health/ready", "/v2/health/ready/"):
        assert requests.get(f"{server.url}{probe}", timeout=10).status_code == 200, probe
    unauthorized = requests.get(f"{server.url}/v2/models/digits", timeout=10)
    assert unauthorized.status_code == 401 and set(unauthorized.json()) == {"error"}
    assert requests.get(f"{server.url}/v2/models/digits", headers=inference, timeout=10).status_code == 200
    server.stop()
    for text in (log.read_text(), server.output):
        assert management_token not in text and inference_token not in text


def test_the_management_api_beyond_loopback_needs_a_token(start_server):
    server = start_server("--models", f"digits={DIGITS}", "--management-host", "0.0.0.0", wait=False)
    assert server.wait_for_exit() == USAGE_EXIT
    assert "--management-host 0.0.0.0 opens the management API beyond this machine" in server.output
    assert_no_crash_signs(server.output)
    off = start_server("--models", f"digits={DIGITS}", "--no-management")
    assert off.management_url is None
    assert predict_digit(off, "digits").status_code == 200
    off.stop()


def test_concurrent_changes_under_load(start_server):
    """Clients predict on a model whose settings keep changing and on a name that is registered
    and unregistered again and again, while two registrations race for another name. Every
    request to the stable model is answered 200 with the right class; the churning name answers
    200, 404, or 503 for a request that found the model just as it was being unregistered —
    never "still loading" (no request meets a half-loaded model); nothing crashes."""
    server = start_server("--models", f"stable={DIGITS}", "--queue-size", "500")
    stop = threading.Event()
    outcomes = {"stable": {}, "churn": {}}
    lock = threading.Lock()

    def client(model):
        session = requests.Session()
        while not stop.is_set():
            response = session.post(f"{server.url}/{model}/predict", files={"input0": ("d.png", SAMPLE, "image/png")}, timeout=60)
            key = response.status_code
            if key == 200:
                assert response.json()["prediction"][0][0]["class"] == "7", response.text
            elif key == 503:
                key = f"503 {response.json()['message']}"
            with lock:
                outcomes[model][key] = outcomes[model].get(key, 0) + 1

    def churn():
        rounds = 0
        while not stop.is_set():
            assert register(server, {"name": "churn", "location": str(DIGITS)}).status_code == 201
            time.sleep(0.05)
            assert requests.delete(f"{server.management_url}/models/churn", timeout=60).status_code == 200
            rounds += 1
        return rounds

    def reconfigure():
        changes = 0
        while not stop.is_set():
            workers = 1 + changes % 2
            response = requests.patch(f"{server.management_url}/models/stable", json={"workers": workers, "max_batch_size": 2 + changes % 3}, timeout=60)
            assert response.status_code == 200, response.text
            changes += 1
        return changes

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        clients = [pool.submit(client, "stable") for _ in range(3)] + [pool.submit(client, "churn") for _ in range(2)]
        churner, changer = pool.submit(churn), pool.submit(reconfigure)
        races = [pool.submit(register, server, {"name": "raced", "location": str(DIGITS)}) for _ in range(2)]
        time.sleep(float(os.environ.get("DMS_MANAGEMENT_LOAD_SECONDS", "8")))
        stop.set()
        for future in clients:
            future.result()
        rounds, changes = churner.result(), changer.result()
        statuses = sorted(future.result().status_code for future in races)

    print(f"outcomes: {outcomes}; churn rounds {rounds}, setting changes {changes}")
    assert statuses == [201, 409]
    assert set(outcomes["stable"]) == {200}, outcomes
    assert outcomes["stable"][200] > 0 and rounds > 0 and changes > 0
    assert set(outcomes["churn"]) <= {200, 404, "503 model 'churn' is shutting down"}, outcomes
    assert requests.get(f"{server.url}/statistics", timeout=10).json()["models"]["stable"]["requests"] == outcomes["stable"][200]
    assert requests.get(f"{server.url}/ping", timeout=10).json() == {"health": "healthy!"}
    assert server.stop() == 0, server.output
    assert_no_crash_signs(server.output)
