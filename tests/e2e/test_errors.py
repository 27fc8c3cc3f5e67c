"""Every error of the REST surface: the right status and a JSON body with code, type, message."""

import io
import zipfile

import pytest
import requests
from PIL import Image

from conftest import EXAMPLES

SAMPLE = (EXAMPLES / "samples" / "digit-7-7.png").read_bytes()


def assert_error(response, status, error_type, fragment=""):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == status
    assert body["type"] == error_type
    assert fragment in body["message"], body["message"]
    return body


@pytest.fixture(scope="module")
def limited_server(start_server, tmp_path_factory):
    """One good model, one broken one (served with --allow-model-failures), and small limits."""
    broken = tmp_path_factory.mktemp("broken") / "broken.model"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("signature.json", "{not json")
    server = start_server(
        "--allow-model-failures",
        "--max-request-size",
        "200000",
        "--max-image-pixels",
        "10000",
        "--models",
        f"digits={EXAMPLES / 'digits-mlp.model'}",
        f"broken={broken}",
    )
    yield server
    assert server.stop() == 0, server.output


def post(server, path, **kwargs):
    return requests.post(f"{server.url}{path}", timeout=60, **kwargs)


def test_unknown_model(limited_server):
    assert_error(post(limited_server, "/nope/predict", files={"input0": ("d.png", SAMPLE)}), 404, "ModelNotFound", "nope")


def test_unknown_route(limited_server):
    assert_error(requests.get(f"{limited_server.url}/no/such/route", timeout=10), 404, "NotFound")


@pytest.mark.parametrize(
    "method,path,allowed",
    [
        ("GET", "/digits/predict", "POST"), ("PUT", "/digits/predict", "POST"), ("POST", "/ping", "GET, HEAD"), ("DELETE", "/api-description", "GET, HEAD"),
        ("TRACE", "/ping", "GET, HEAD"), ("OPTIONS", "/digits/predict", "POST"), ("HEAD", "/digits/predict", "POST"),
    ],
)
def test_wrong_method(limited_server, method, path, allowed):
    response = requests.request(method, f"{limited_server.url}{path}", timeout=10)
    assert response.headers["allow"] == allowed
    if method == "HEAD":  # a HEAD answer has no body
        assert response.status_code == 405
    else:
        assert_error(response, 405, "MethodNotAllowed")


@pytest.mark.parametrize("path", ["/ping", "/statistics", "/api-description", "/openapi.json", "/"])
def test_head_is_get_without_the_body(limited_server, path):
    get = requests.get(f"{limited_server.url}{path}", timeout=10)
    head = requests.head(f"{limited_server.url}{path}", timeout=10)
    assert head.status_code == get.status_code
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.content == b""


@pytest.mark.parametrize(
    "files,fragment",
    [
        ({"input0": ("x.png", b"this is not an image")}, "unsupported image format"),
        ({"input0": ("x.png", SAMPLE[: len(SAMPLE) // 2])}, "input0"),
        ({"input7": ("x.png", SAMPLE)}, "unexpected field 'input7'"),
        ({"input0": ("x.png", SAMPLE), "data": ("y.png", SAMPLE)}, "more than once"),
    ],
    ids=["not-an-image", "truncated", "unknown-field", "duplicate-input"],
)
def test_invalid_input(limited_server, files, fragment):
    assert_error(post(limited_server, "/digits/predict", files=files), 400, "InvalidInput", fragment)


def test_missing_body_and_malformed_multipart(limited_server):
    assert_error(post(limited_server, "/digits/predict"), 400, "InvalidInput", "no body")
    response = post(
        limited_server, "/digits/predict", data=b"--xyz\r\nnonsense", headers={"Content-Type": "multipart/form-data; boundary=xyz"}
    )
    assert_error(response, 400, "InvalidInput")


def test_body_over_the_limit(limited_server):
    assert_error(post(limited_server, "/digits/predict", files={"input0": ("big.png", b"\0" * 300000)}), 413, "PayloadTooLarge")


def test_chunked_body_over_the_limit(limited_server):
    """Without a Content-Length the limit is found while the body arrives: still 413, not 500."""
    chunks = (b"\0" * 50000 for _ in range(6))
    response = post(limited_server, "/digits/predict", data=chunks, headers={"Content-Type": "image/png"})
    assert_error(response, 413, "PayloadTooLarge", "larger than the limit of 200000 bytes")


def test_image_over_the_pixel_limit(limited_server):
    big = io.BytesIO()
    Image.new("L", (200, 200), 128).save(big, format="PNG")
    assert_error(post(limited_server, "/digits/predict", files={"input0": ("big.png", big.getvalue())}), 413, "PayloadTooLarge", "pixels")


def test_model_that_failed_to_load(limited_server):
    assert_error(post(limited_server, "/broken/predict", files={"input0": ("d.png", SAMPLE)}), 503, "ServiceUnavailable", "failed to load")


def test_server_still_answers_after_every_error(limited_server):
    response = post(limited_server, "/digits/predict", files={"input0": ("d.png", SAMPLE)})
    assert response.status_code == 200
    assert response.json()["prediction"][0][0]["class"] == "7"


def digits_statistics(server):
    """The `digits` model's entry of GET /statistics (see the README's Scheduling section)."""
    response = requests.get(f"{server.url}/statistics", timeout=10)
    assert response.status_code == 200, response.text
    stats = response.json()["models"]["digits"]
    assert stats["queued"] == 0 and stats["running"] == 0, stats  # nothing else is in flight
    return stats


def test_request_whose_deadline_passed_gets_504_without_an_engine_call(limited_server):
    before = digits_statistics(limited_server)
    response = post(limited_server, "/digits/predict", files={"input0": ("d.png", SAMPLE)}, headers={"X-Request-Timeout-Ms": "0"})
    assert_error(response, 504, "DeadlineExceeded", "deadline")
    after = digits_statistics(limited_server)
    assert after["engine_calls"] == before["engine_calls"], (before, after)
    assert after["requests"] == before["requests"], (before, after)
    assert after["batch_sizes"] == before["batch_sizes"], (before, after)
    assert after["expired"] == before["expired"] + 1, (before, after)

    # The counter does move when the engine runs: a generous deadline is one engine call.
    generous = post(limited_server, "/digits/predict", files={"input0": ("d.png", SAMPLE)}, headers={"X-Request-Timeout-Ms": "60000"})
    assert generous.status_code == 200, generous.text
    assert generous.json()["prediction"][0][0]["class"] == "7"
    last = digits_statistics(limited_server)
    assert last["engine_calls"] == after["engine_calls"] + 1, (after, last)
    assert last["requests"] == after["requests"] + 1, (after, last)
    assert last["expired"] == after["expired"], (after, last)


def test_malformed_timeout_header(limited_server):
    response = post(limited_server, "/digits/predict", files={"input0": ("d.png", SAMPLE)}, headers={"X-Request-Timeout-Ms": "soon"})
    assert_error(response, 400, "InvalidInput", "X-Request-Timeout-Ms")


def test_odd_accept_headers_are_harmless(limited_server):
    for accept in (";", "text/html,;", ",,", "image/jpeg;q=0.5"):
        response = post(limited_server, "/digits/predict", files={"input0": ("d.png", SAMPLE)}, headers={"Accept": accept})
        assert response.status_code == 200, (accept, response.text)
