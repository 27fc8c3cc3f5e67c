"""GET /metrics: Prometheus' text format, parsed with prometheus_client's own parser, with exact
counts after known traffic."""

import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import EXAMPLES

SAMPLE = (EXAMPLES / "samples" / "digit-7-7.png").read_bytes()


@pytest.fixture(scope="module")
def metrics_server(start_server, test_models):
    server = start_server("--models", f"digits={EXAMPLES / 'digits-mlp.model'}", f"add-mul={test_models['add-mul']}")
    yield server
    assert server.stop() == 0, server.output


def scrape(server):
    response = requests.get(f"{server.url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


def predict(server, model, **kwargs):
    return requests.post(f"{server.url}/{model}/predict", timeout=30, **kwargs)


def test_known_traffic_gives_exact_counts(metrics_server):
    for _ in range(3):
        assert predict(metrics_server, "digits", files={"input0": ("d.png", SAMPLE)}).status_code == 200
    for _ in range(2):
        assert predict(metrics_server, "digits", files={"input0": ("d.png", b"not an image")}).status_code == 400
    expired = predict(metrics_server, "digits", files={"input0": ("d.png", SAMPLE)}, headers={"X-Request-Timeout-Ms": "0"})
    assert expired.status_code == 504
    assert predict(metrics_server, "nope", files={"input0": ("d.png", SAMPLE)}).status_code == 404  # no model: not counted
    assert predict(metrics_server, "add-mul", json={"input0": [[1, 2, 3, 4]], "input1": [[1, 1, 1, 1]]}).status_code == 200

    samples = scrape(metrics_server)
    digits = {"model": "digits"}
    outcomes = {outcome: value(samples, "dms_requests_total", outcome=outcome, **digits)
                for outcome in ("success", "invalid_input", "too_large", "unavailable", "rejected", "expired", "unsupported", "error")}
    assert outcomes == {"success": 3, "invalid_input": 2, "too_large": 0, "unavailable": 0, "rejected": 0, "expired": 1, "unsupported": 0, "error": 0}
    assert value(samples, "dms_requests_total", model="add-mul", outcome="success") == 1
    assert not any(labels and dict(labels).get("model") == "nope" for _, labels in samples)
    # Every request has an end-to-end latency; the three answered ones went through every stage.
    assert value(samples, "dms_request_duration_seconds_count", **digits) == 6
    assert value(samples, "dms_preprocess_duration_seconds_count", **digits) == 4  # the expired one was prepared
    assert value(samples, "dms_queue_duration_seconds_count", **digits) == 3
    assert value(samples, "dms_inference_duration_seconds_count", **digits) == 3
    assert value(samples, "dms_postprocess_duration_seconds_count", **digits) == 3
    assert value(samples, "dms_batch_size_count", **digits) == 3 and value(samples, "dms_batch_size_sum", **digits) == 3
    assert value(samples, "dms_batch_size_bucket", le="1.0", **digits) == 3
    assert value(samples, "dms_request_duration_seconds_bucket", le="+Inf", **digits) == 6
    assert value(samples, "dms_requests_expired_total", **digits) == 1
    assert value(samples, "dms_requests_rejected_total", **digits) == 0
    assert value(samples, "dms_requests_cancelled_total", **digits) == 0
    assert value(samples, "dms_queue_depth", **digits) == 0 and value(samples, "dms_inflight_requests", **digits) == 0
    assert value(samples, "dms_model_state", state="ready", **digits) == 1
    assert value(samples, "dms_model_state", state="failed", **digits) == 0
    assert value(samples, "dms_model_load_duration_seconds", **digits) > 0

    # A second scrape after no traffic reports the same counts (the scheduler's counters are
    # added once, not at every scrape).
    again = scrape(metrics_server)
    assert value(again, "dms_requests_expired_total", **digits) == 1
    assert value(again, "dms_requests_total", outcome="success", **digits) == 3


def test_process_metrics(metrics_server):
    samples = scrape(metrics_server)
    assert value(samples, "process_resident_memory_bytes") > 50 * 2**20
    assert value(samples, "process_virtual_memory_bytes") > value(samples, "process_resident_memory_bytes")
    assert value(samples, "process_cpu_seconds_total") > 0
    assert 5 < value(samples, "process_open_fds") < value(samples, "process_max_fds")
    assert time.time() - 3600 < value(samples, "process_start_time_seconds") < time.time()


def test_metrics_is_get_only(metrics_server):
    response = requests.post(f"{metrics_server.url}/metrics", timeout=10)
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
