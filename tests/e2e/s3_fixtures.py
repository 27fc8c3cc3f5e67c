"""S3 fixtures for the end-to-end tests: local moto servers (PyPI `moto[server]`) on 127.0.0.1.

Two servers, because moto cannot serve both kinds of test from one:

- `moto_s3_with_auth`: IAM authentication enforced. Every S3 request must be SigV4-signed by a
  known access key whose policies allow the action. A reader user may only `s3:GetObject` in the
  bucket; its key pair is what the server under test gets. An uploader user (`s3:*`) signs later
  uploads. The bucket holds `PRIVATE_KEY`, a private copy of `s3_object_file`.
- `moto_s3_anonymous`: moto's default mode (no authentication), for unsigned requests: moto
  refuses an anonymous GET of a private object with 403 in both modes, but with authentication
  enforced it answers an anonymous GET of a public-read (or missing) object with a 500, not the
  object. The bucket holds `PUBLIC_KEY` (ACL public-read) and `PRIVATE_KEY` (private), both copies
  of `s3_object_file`.

How authentication is enforced: moto checks nothing until it has counted
INITIAL_NO_AUTH_ACTION_COUNT authenticated actions (a process-wide counter; moto's own
`/moto-api/` routes are not counted). The server starts with that count equal to the number of
set-up calls in `_set_up_authenticated`, `SETUP_CALLS` = 8, each one boto3 call = one HTTP request
= one counted action; from the ninth action on, every request is checked. The fixture proves it
before yielding: a call signed with the set-up's made-up key must then fail with
InvalidAccessKeyId.

Use: define a fixture `s3_object_file` (session scope) returning the local file to upload, for
example `test_models["echo-gray"]`, and request `moto_s3_with_auth` or `moto_s3_anonymous`.
"""

import json
import os
import pathlib
import re
import subprocess
import sys
import threading
import uuid

import boto3
import botocore.config
import botocore.exceptions
import pytest

BUCKET = "dms-models"
PRIVATE_KEY = "models/private.model"
PUBLIC_KEY = "models/public.model"
REGION = "us-east-1"
# The set-up calls of _set_up_authenticated, in order: create_user, create_access_key,
# put_user_policy (reader); create_user, create_access_key, put_user_policy (uploader);
# create_bucket; put_object.
SETUP_CALLS = 8
RUNNING = re.compile(r"Running on (http://127\.0\.0\.1:\d+)")


class MotoServer:
    """One `python -m moto.server` process on a free loopback port; its log is kept in `lines`."""

    def __init__(self, env=None, timeout=60):
        self.lines = []
        self.endpoint = None
        self._ready = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "--host", "127.0.0.1", "--port", "0"],
            env={**_clean_environment(), **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(timeout) or self.endpoint is None:
            self.stop()
            raise AssertionError(f"moto server did not start:\n{self.output}")

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            match = RUNNING.search(line)
            if match and self.endpoint is None:
                self.endpoint = match.group(1)
                self._ready.set()
        self._ready.set()

    @property
    def output(self):
        return "\n".join(self.lines)

    @property
    def host_port(self):
        """`127.0.0.1:PORT`, for the seed's `s3://host:port/bucket/key` form."""
        return self.endpoint[len("http://") :]

    def client(self, service, access_key_id, secret_access_key):
        """A boto3 client for this server, path-style, signing with the given key pair."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=botocore.config.Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class MotoS3:
    """What a test needs from one moto server: where it is, the bucket, the keys of the objects
    and, with authentication, the reader's key pair."""

    def __init__(self, server, uploader, folder, access_key_id=None, secret_access_key=None):
        self.server = server
        self.endpoint = server.endpoint
        self.bucket = BUCKET
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self._uploader = uploader
        self._empty_credentials_file = pathlib.Path(folder) / "no-credentials"
        self._empty_credentials_file.write_text("")

    def url(self, key):
        """The object's path-style URL."""
        return f"{self.endpoint}/{self.bucket}/{key}"

    def location(self, key):
        """`s3://bucket/key`, to use with AWS_ENDPOINT_URL=endpoint."""
        return f"s3://{self.bucket}/{key}"

    def host_port_location(self, key):
        """The seed's `s3://127.0.0.1:PORT/bucket/key` form."""
        return f"s3://{self.server.host_port}/{self.bucket}/{key}"

    def environment(self, **extra):
        """Environment variables for the server under test: this endpoint, the reader's key pair
        (none without authentication), plus `extra`.

        The developer's own AWS settings are blanked (an empty variable counts as unset), and
        AWS_SHARED_CREDENTIALS_FILE names an empty file, so neither a stale AWS_SESSION_TOKEN nor
        a ~/.aws/credentials can sign requests meant to be anonymous (moto's default mode accepts
        any signature)."""
        env = {name: "" for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                                     "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_S3")}
        env.update(AWS_ENDPOINT_URL=self.endpoint, AWS_REGION=REGION, AWS_SHARED_CREDENTIALS_FILE=str(self._empty_credentials_file))
        if self.access_key_id:
            env.update(AWS_ACCESS_KEY_ID=self.access_key_id, AWS_SECRET_ACCESS_KEY=self.secret_access_key)
        env.update(extra)
        return env

    def write_credentials_file(self, path, profile="default"):
        """Writes a shared credentials file (INI) holding the reader's key pair under `profile`,
        for tests of AWS_SHARED_CREDENTIALS_FILE and AWS_PROFILE; returns the path."""
        path = pathlib.Path(path)
        path.write_text(
            f"[{profile}]\naws_access_key_id = {self.access_key_id}\naws_secret_access_key = {self.secret_access_key}\n"
        )
        return path

    def upload(self, path, key, public=False):
        """Uploads a local file (again) as `key`, private or public-read; returns its ETag."""
        extra = {"ACL": "public-read"} if public else {}
        return self._uploader.put_object(Bucket=self.bucket, Key=key, Body=pathlib.Path(path).read_bytes(), **extra)["ETag"]


def _clean_environment():
    """The environment without AWS settings of the developer's, which moto would pick up."""
    return {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}


def _policy(actions, resource):
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}
    )


def _set_up_authenticated(server, object_file):
    """The SETUP_CALLS set-up calls, made before moto checks anything (so the key pair signing
    them is made up), then the proof that checking has started."""
    setup_key = f"AKIASETUP{uuid.uuid4().hex[:11].upper()}"
    iam = server.client("iam", setup_key, "setup-secret")
    s3 = server.client("s3", setup_key, "setup-secret")

    iam.create_user(UserName="dms-reader")
    reader = iam.create_access_key(UserName="dms-reader")["AccessKey"]
    iam.put_user_policy(
        UserName="dms-reader", PolicyName="read-models", PolicyDocument=_policy("s3:GetObject", f"arn:aws:s3:::{BUCKET}/*")
    )
    iam.create_user(UserName="dms-uploader")
    uploader = iam.create_access_key(UserName="dms-uploader")["AccessKey"]
    iam.put_user_policy(
        UserName="dms-uploader",
        PolicyName="manage-models",
        PolicyDocument=_policy("s3:*", [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]),
    )
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=PRIVATE_KEY, Body=pathlib.Path(object_file).read_bytes())

    try:
        s3.list_buckets()
    except botocore.exceptions.ClientError as error:
        if error.response["Error"]["Code"] != "InvalidAccessKeyId":
            raise
    else:
        raise AssertionError(f"moto still skips authentication after the {SETUP_CALLS} set-up calls")
    return reader, server.client("s3", uploader["AccessKeyId"], uploader["SecretAccessKey"])


@pytest.fixture(scope="session")
def moto_s3_with_auth(s3_object_file, tmp_path_factory):
    """A moto server enforcing IAM authentication, with the reader's key pair and a private
    object `PRIVATE_KEY` uploaded from `s3_object_file`."""
    server = MotoServer(env={"INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_CALLS)})
    try:
        reader, uploader = _set_up_authenticated(server, s3_object_file)
        yield MotoS3(server, uploader, tmp_path_factory.mktemp("moto-auth"), reader["AccessKeyId"], reader["SecretAccessKey"])
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_s3_anonymous(s3_object_file, tmp_path_factory):
    """A moto server in its default mode (no authentication) with `PUBLIC_KEY` (public-read) and
    `PRIVATE_KEY` (private), both uploaded from `s3_object_file`."""
    server = MotoServer()
    try:
        s3 = server.client("s3", "anonymous-setup", "anonymous-setup")
        s3.create_bucket(Bucket=BUCKET)
        moto = MotoS3(server, s3, tmp_path_factory.mktemp("moto-anonymous"))
        moto.upload(s3_object_file, PUBLIC_KEY, public=True)
        moto.upload(s3_object_file, PRIVATE_KEY)
        yield moto
    finally:
        server.stop()
