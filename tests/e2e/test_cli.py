"""Command-line mistakes exit with the usage status (64) with a one-line message and the usage."""

import subprocess

import pytest

from conftest import EXAMPLES, SERVER_BINARY, USAGE_EXIT, assert_no_crash_signs

GOOD = f"m={EXAMPLES / 'digits-mlp.model'}"


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["--models", "no-equals-sign"], "NAME=LOCATION"),
        (["--models", GOOD, GOOD], "more than once"),
        (["--models", f".hidden={EXAMPLES / 'digits-mlp.model'}"], "not a valid model name"),
        (["--models", f"ping={EXAMPLES / 'digits-mlp.model'}"], "route"),
        (["--models", GOOD, "--log-level", "LOUD"], "LOUD"),
        (["--models", GOOD, "--port", "70000"], "--port"),
        (["--models", GOOD, "--grpc-port", "70000"], "--grpc-port"),
        (["--models", GOOD, "--host", "my-host.example"], "the gRPC listener binds an IP address"),
        (["--models", GOOD, "--host", "0.0.0.0", "--allow-model-control"], "--allow-model-control with --host 0.0.0.0"),
        (["--models", GOOD, "--log-rotation-time", "7 X"], "7 X"),
        (["--models", GOOD, "--max-request-size", "4294967296"], "--max-request-size must be at most 1073741824 (1 GiB)"),
        (["--models", GOOD, "--service", "my_custom.py"], "--service my_custom.py: no such Python file"),
        (["--models", GOOD, "--service", "my_custom"], "not a service of this server (mxnet_vision_service, mxnet_model_service) nor a Python file"),
        ([], "--models"),
    ],
)
def test_bad_arguments(args, fragment, tmp_path):
    command = [str(SERVER_BINARY), *args] + ([] if "--port" in args else ["--port", "0"])
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == USAGE_EXIT, (result.returncode, result.stderr)
    assert_no_crash_signs(result.stdout + result.stderr)
    assert "listening on" not in result.stdout, result.stdout
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, result.stderr
    assert fragment in error_lines[0], result.stderr
    assert "Usage:" in result.stderr


def test_an_idle_timeout_not_longer_than_the_queue_wait_is_warned_about(start_server):
    server = start_server("--models", GOOD, "--idle-timeout", "5", "--queue-wait", "m=5000")
    assert "WARNING [deep-model-server] --idle-timeout 5 s is not longer than --queue-wait 5000 ms" in server.output
    assert server.stop() == 0, server.output
    quiet = start_server("--models", GOOD, "--idle-timeout", "6", "--queue-wait", "m=5000")
    assert "--idle-timeout" not in quiet.output
    assert quiet.stop() == 0, quiet.output


def test_log_file_dash_logs_to_standard_error_only(start_server, tmp_path):
    """`--log-file -` (the container image's setting) writes no file; the last of repeated
    options wins, which is how the image's defaults give way to a user's arguments."""
    server = start_server("--models", GOOD, "--log-file", "-", cwd=tmp_path)
    assert server.stop() == 0, server.output
    assert "model ready" in server.output
    assert sorted(path.name for path in tmp_path.iterdir()) == []
