"""Downloads that can be trusted: failures leave the cache as it was, and cached copies are
revalidated with conditional requests."""

import pytest
import requests

from conftest import EXAMPLES, assert_failed_start

SAMPLE = (EXAMPLES / "samples" / "digit-7-7.png").read_bytes()
MLP = (EXAMPLES / "digits-mlp.model").read_bytes()
CNN = (EXAMPLES / "digits-cnn.model").read_bytes()


def cached_files(store):
    downloads = store / "downloads"
    return sorted(p.name for p in downloads.iterdir()) if downloads.exists() else []


def probability(server):
    response = requests.post(f"{server.url}/m/predict", files={"input0": ("d.png", SAMPLE)}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["prediction"][0][0]["probability"]


def failed_start(start_server, store, *args):
    server = start_server(*args, store_dir=store, wait=False)
    return assert_failed_start(server, "models failed to load: m: ")


@pytest.mark.parametrize(
    "setup,fragment,extra",
    [
        (lambda o: o.cut("/m.model", MLP), "connection", []),
        (lambda o: o.status("/m.model", 404), "404", []),
        (lambda o: o.status("/m.model", 500), "500", []),
        (lambda o: o.stall("/m.model", MLP), "timed out", ["--download-timeout", "2"]),
        (lambda o: o.put("/m.model", MLP), "download limit", ["--max-download-size", "1000"]),
    ],
    ids=["cut-mid-transfer", "not-found", "server-error", "stall", "too-large"],
)
def test_failed_download_is_a_clear_error_and_caches_nothing(start_server, origin, tmp_path, setup, fragment, extra):
    setup(origin)
    store = tmp_path / "store"
    output = failed_start(start_server, store, *extra, "--models", f"m={origin.url}/m.model")
    assert fragment in output, output
    assert cached_files(store) == []


def test_other_models_keep_serving_when_a_download_fails(start_server, origin, tmp_path):
    origin.status("/m.model", 500)
    server = start_server("--allow-model-failures", "--models", f"m={origin.url}/m.model", f"good={EXAMPLES / 'digits-mlp.model'}", store_dir=tmp_path / "s")
    response = requests.post(f"{server.url}/good/predict", files={"input0": ("d.png", SAMPLE)}, timeout=60)
    assert response.status_code == 200
    assert requests.get(f"{server.url}/ping", timeout=10).status_code == 503
    assert server.stop() == 0


def test_cached_copy_is_revalidated(start_server, origin, tmp_path):
    store = tmp_path / "store"
    models = ["--models", f"m={origin.url}/m.model"]
    origin.put("/m.model", MLP)

    first = start_server(*models, store_dir=store)
    mlp_answer = probability(first)
    assert first.stop() == 0
    assert "download progress" in first.output and "percent=100.0" in first.output

    second = start_server(*models, store_dir=store)
    assert len(origin.conditional_requests("/m.model")) == 1
    assert "cached download is current" in second.output
    assert probability(second) == mlp_answer
    assert second.stop() == 0

    origin.put("/m.model", CNN)
    third = start_server(*models, store_dir=store)
    assert "downloaded model" in third.output
    assert probability(third) != mlp_answer
    assert third.stop() == 0

    before = len(origin.requests)
    forced = start_server("--force-download", *models, store_dir=store)
    assert len(origin.requests) == before + 1, origin.requests[before:]
    headers = origin.requests[-1][1]
    assert "If-None-Match" not in headers and "If-Modified-Since" not in headers, headers
    assert "downloaded model" in forced.output, forced.output
    assert forced.stop() == 0

    origin.close()
    offline = start_server("--download-timeout", "2", *models, store_dir=store)
    assert "using the cached copy" in offline.output
    assert probability(offline) != mlp_answer
    assert offline.stop() == 0
