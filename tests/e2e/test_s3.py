"""Models from S3: signed requests against a real S3-compatible server (moto) with
authentication enforced, and anonymous reads against one in its default mode."""

import json

import pytest
import requests

from conftest import EXAMPLES, assert_failed_start
from s3_fixtures import PRIVATE_KEY, PUBLIC_KEY

SAMPLE = (EXAMPLES / "samples" / "digit-7-7.png").read_bytes()
EXPECTED = json.loads((EXAMPLES / "samples" / "expected.json").read_text())["samples"]
MLP_PROBABILITY = next(s for s in EXPECTED if s["file"] == "digit-7-7.png")["predictions"]["digits-mlp"]["probability"]


def assert_serves_the_mlp(server):
    response = requests.post(f"{server.url}/m/predict", files={"input0": ("d.png", SAMPLE)}, timeout=60)
    assert response.status_code == 200, response.text
    top = response.json()["prediction"][0][0]
    assert top["class"] == "7"
    assert top["probability"] == pytest.approx(MLP_PROBABILITY, abs=1e-6)
    assert server.stop() == 0


def failed_start(start_server, tmp_path, location, env, *fragments):
    """A start refused because the S3 object could not be fetched: the load-failure exit status,
    no crash, the fragments (the model's name is always one) in the output, nothing cached."""
    server = start_server("--models", f"m={location}", store_dir=tmp_path / "store", env=env, wait=False)
    output = assert_failed_start(server, "models failed to load: m: ", *fragments)
    assert not (tmp_path / "store" / "downloads").exists() or not [
        p for p in (tmp_path / "store" / "downloads").iterdir() if p.suffix == ".model"
    ]
    return output


def test_private_object_with_the_right_key(start_server, moto_s3_with_auth, tmp_path):
    moto = moto_s3_with_auth
    server = start_server("--models", f"m={moto.location(PRIVATE_KEY)}", store_dir=tmp_path / "store", env=moto.environment())
    assert_serves_the_mlp(server)


def test_seed_host_port_form(start_server, moto_s3_with_auth, tmp_path):
    moto = moto_s3_with_auth
    env = moto.environment(AWS_ENDPOINT_URL="")
    server = start_server("--models", f"m={moto.host_port_location(PRIVATE_KEY)}", store_dir=tmp_path / "store", env=env)
    assert_serves_the_mlp(server)


def test_shared_credentials_file_and_profile(start_server, moto_s3_with_auth, tmp_path):
    moto = moto_s3_with_auth
    credentials = moto.write_credentials_file(tmp_path / "credentials", profile="models")
    env = moto.environment(AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="", AWS_SHARED_CREDENTIALS_FILE=str(credentials), AWS_PROFILE="models")
    server = start_server("--models", f"m={moto.location(PRIVATE_KEY)}", store_dir=tmp_path / "store", env=env)
    assert_serves_the_mlp(server)


def test_wrong_secret_is_a_clear_error(start_server, moto_s3_with_auth, tmp_path):
    moto = moto_s3_with_auth
    failed_start(start_server, tmp_path, moto.location(PRIVATE_KEY), moto.environment(AWS_SECRET_ACCESS_KEY="wrong"),
                 f"{moto.location(PRIVATE_KEY)}: the server answered 403 Forbidden (SignatureDoesNotMatch: ")


def test_missing_object_is_a_clear_error(start_server, moto_s3_with_auth, tmp_path):
    moto = moto_s3_with_auth
    location = moto.location("models/absent.model")
    failed_start(start_server, tmp_path, location, moto.environment(), f"{location}: the server answered 404 Not Found (NoSuchKey: ")


def test_unsigned_request_to_a_private_object_is_refused(start_server, moto_s3_with_auth, tmp_path):
    moto = moto_s3_with_auth
    env = moto.environment(AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="")
    # moto answers an unsigned GET of a private object 403 with an empty body (no S3 error code).
    failed_start(start_server, tmp_path, moto.location(PRIVATE_KEY), env, f"{moto.location(PRIVATE_KEY)}: the server answered 403 Forbidden")


def test_anonymous_read_of_a_public_object(start_server, moto_s3_anonymous, tmp_path):
    moto = moto_s3_anonymous
    server = start_server("--models", f"m={moto.location(PUBLIC_KEY)}", store_dir=tmp_path / "store", env=moto.environment())
    assert_serves_the_mlp(server)


def test_anonymous_read_of_a_private_object_is_refused(start_server, moto_s3_anonymous, tmp_path):
    moto = moto_s3_anonymous
    # moto answers an unsigned GET of a private object 403 with an empty body (no S3 error code).
    failed_start(start_server, tmp_path, moto.location(PRIVATE_KEY), moto.environment(),
                 f"{moto.location(PRIVATE_KEY)}: the server answered 403 Forbidden")


def test_cached_s3_object_is_revalidated(start_server, moto_s3_with_auth, tmp_path):
    moto = moto_s3_with_auth
    store = tmp_path / "store"
    for _ in range(2):
        server = start_server("--models", f"m={moto.location(PRIVATE_KEY)}", store_dir=store, env=moto.environment())
        assert_serves_the_mlp(server)
    assert "cached download is current" in server.output


def test_bad_s3_locations_are_refused(start_server, tmp_path):
    for location, fragment in (("s3://", "'s3://' names no bucket"), ("s3://bucket-only", "'s3://bucket-only' names no object key")):
        server = start_server("--models", f"m={location}", store_dir=tmp_path / "store", wait=False)
        assert_failed_start(server, fragment)
