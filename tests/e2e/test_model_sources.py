"""Model locations: http:// downloads into the cache and reuse of it, file:// forms, and two
servers sharing one cache."""

import functools
import http.server
import shutil
import threading

import pytest
import requests

from conftest import EXAMPLES, ROOT, assert_failed_start

SAMPLE = (EXAMPLES / "samples" / "digit-7-7.png").read_bytes()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_origin(tmp_path):
    """A real HTTP server on loopback serving a/digits.model (the MLP) and b/digits.model (the
    CNN): two URLs that end in the same file name."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(EXAMPLES / "digits-mlp.model", tmp_path / "a" / "digits.model")
    shutil.copy(EXAMPLES / "digits-cnn.model", tmp_path / "b" / "digits.model")
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", server
    server.shutdown()
    server.server_close()


def top1(server, model):
    response = requests.post(f"{server.url}/{model}/predict", files={"input0": ("d.png", SAMPLE)}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["prediction"][0][0]


def test_http_download_then_cache(start_server, http_origin, tmp_path):
    origin, http_server = http_origin
    store = tmp_path / "store"
    models = ["--models", f"mlp={origin}/a/digits.model", f"cnn={origin}/b/digits.model"]
    first = start_server(*models, store_dir=store)
    mlp, cnn = top1(first, "mlp"), top1(first, "cnn")
    assert mlp["class"] == cnn["class"] == "7"
    assert mlp["probability"] != cnn["probability"], "two URLs ending in the same name must not collide"
    assert first.stop() == 0
    downloads = sorted(p.name for p in (store / "downloads").iterdir() if p.suffix == ".model")
    assert len(downloads) == 2 and all(name.endswith("-digits.model") for name in downloads)

    http_server.shutdown()
    http_server.server_close()
    second = start_server("--download-timeout", "2", *models, store_dir=store)
    assert "using the cached copy" in second.output
    assert top1(second, "mlp") == mlp and top1(second, "cnn") == cnn
    assert second.stop() == 0


def test_http_errors_are_load_errors(start_server, http_origin):
    origin, _ = http_origin
    server = start_server("--models", f"missing={origin}/nope/digits.model", wait=False)
    assert_failed_start(server, "models failed to load: missing: ", "404")


def test_file_uri_forms(start_server):
    server = start_server(
        "--models",
        f"absolute=file://{EXAMPLES / 'digits-mlp.model'}",
        "relative=file://examples/digits-cnn",
        "plain=examples/digits-mlp.model",
        cwd=ROOT,
    )
    for model in ("absolute", "relative", "plain"):
        assert top1(server, model)["class"] == "7"
    assert server.stop() == 0


def test_seed_comma_form_of_models(start_server):
    server = start_server("--models", f"a={EXAMPLES / 'digits-mlp.model'},", f"b={EXAMPLES / 'digits-cnn.model'}")
    assert top1(server, "a")["class"] == top1(server, "b")["class"] == "7"
    assert server.stop() == 0


def test_two_servers_starting_at_once_share_one_cache(start_server, http_origin, tmp_path):
    origin, _ = http_origin
    store = tmp_path / "shared-store"
    servers = [start_server("--models", f"m={origin}/b/digits.model", store_dir=store, wait=False) for _ in range(2)]
    for server in servers:
        server.wait_until_listening()
    answers = [top1(server, "m") for server in servers]
    assert answers[0] == answers[1]
    for server in servers:
        assert server.stop() == 0
    assert not [p for p in (store / "unpacked").iterdir() if p.name.startswith(".partial")]
    assert len(list((store / "unpacked").iterdir())) == 1
