"""The access log: one line per request to either API, with method, path, model, status, bytes,
latency and request id; the id taken from X-Request-ID or made, and echoed."""

import json
import re
import subprocess

import requests

from conftest import EXAMPLES, USAGE_EXIT, wait_for

SAMPLE = (EXAMPLES / "samples" / "digit-7-7.png").read_bytes()
DIGITS = EXAMPLES / "digits-mlp.model"


def predict(server, model="digits", **kwargs):
    return requests.post(f"{server.url}/{model}/predict", files={"input0": ("d.png", SAMPLE, "image/png")}, timeout=30, **kwargs)


def test_access_lines_in_the_log(start_server, tmp_path):
    log = tmp_path / "server.log"
    server = start_server("--models", f"digits={DIGITS}", "--access-log", "log", log_file=log)
    answered = predict(server, headers={"X-Request-ID": "trace-123"})
    assert answered.status_code == 200 and answered.headers["x-request-id"] == "trace-123"
    made = predict(server)
    generated = made.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated), generated
    missing = predict(server, "nope", headers={"X-Request-ID": "has space"})
    assert missing.status_code == 404 and re.fullmatch(r"[0-9a-f]{32}", missing.headers["x-request-id"])
    assert requests.get(f"{server.management_url}/models", headers={"X-Request-ID": "m-1"}, timeout=10).headers["x-request-id"] == "m-1"

    def line(request_id):
        lines = [entry for entry in log.read_text().splitlines() if "[access]" in entry and f"request_id={request_id}" in entry]
        return lines[0] if len(lines) == 1 else None

    assert wait_for(lambda: line("m-1"))
    pattern = r"INFO \[access\] POST /digits/predict 200 {bytes} [0-9.]+ms model=digits request_id={id}$"
    assert re.search(pattern.format(bytes=len(answered.content), id="trace-123"), line("trace-123")), line("trace-123")
    assert re.search(pattern.format(bytes=len(made.content), id=generated), line(generated))
    assert re.search(rf"POST /nope/predict 404 {len(missing.content)} [0-9.]+ms model=nope request_id={missing.headers['x-request-id']}$",
                     line(missing.headers["x-request-id"]))
    assert re.search(r"GET /models 200 \d+ [0-9.]+ms model=- request_id=m-1$", line("m-1"))
    assert server.stop() == 0


def test_json_lines_in_a_file_of_their_own(start_server, tmp_path):
    access = tmp_path / "access.log"
    server = start_server("--models", f"digits={DIGITS}", "--access-log", access, "--access-log-format", "json")
    answered = predict(server, headers={"X-Request-ID": "json-1"})
    requests.get(f"{server.url}/ping", timeout=10)
    requests.delete(f"{server.management_url}/models/nope", timeout=10)
    assert wait_for(lambda: access.exists() and len(access.read_text().splitlines()) >= 3)
    entries = [json.loads(entry) for entry in access.read_text().splitlines()]
    first = entries[0]
    assert set(first) == {"time", "method", "path", "model", "status", "bytes", "latency_ms", "request_id"}
    assert (first["method"], first["path"], first["model"], first["status"], first["bytes"], first["request_id"]) == (
        "POST", "/digits/predict", "digits", 200, len(answered.content), "json-1")
    assert first["latency_ms"] > 0 and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])
    assert (entries[1]["path"], entries[1]["model"], entries[1]["status"]) == ("/ping", None, 200)
    assert (entries[2]["method"], entries[2]["path"], entries[2]["status"]) == ("DELETE", "/models/nope", 404)
    assert server.stop() == 0


def test_no_access_log_by_default_but_request_ids_still(start_server, tmp_path):
    log = tmp_path / "quiet.log"
    server = start_server("--models", f"digits={DIGITS}", log_file=log)
    response = predict(server, headers={"X-Request-ID": "quiet-1"})
    assert response.status_code == 200 and response.headers["x-request-id"] == "quiet-1"
    assert server.stop() == 0
    assert "[access]" not in log.read_text()
    for destination in ([], ["--access-log", "log"]):
        refused = start_server("--models", f"digits={DIGITS}", *destination, "--access-log-format", "json", wait=False)
        assert refused.wait_for_exit() == USAGE_EXIT
        assert "--access-log-format json needs --access-log PATH or -" in refused.output


def test_json_lines_on_standard_output(start_server, tmp_path):
    """`--access-log -` writes to standard output (a container's log), not to a file named "-"
    nor to the server's log (standard error, left out of the collected output here, and --log-file)."""
    log = tmp_path / "server.log"
    server = start_server(
        "--models", f"digits={DIGITS}", "--access-log", "-", "--access-log-format", "json", cwd=tmp_path, log_file=log,
        stderr=subprocess.DEVNULL)
    assert predict(server, headers={"X-Request-ID": "stdout-1"}).status_code == 200

    def entry():
        lines = [json.loads(line) for line in server.lines if line.startswith("{") and '"stdout-1"' in line]
        return lines[0] if lines else None

    assert wait_for(entry)
    assert (entry()["path"], entry()["status"], entry()["model"]) == ("/digits/predict", 200, "digits")
    assert server.stop() == 0
    assert not (tmp_path / "-").exists()
    assert "stdout-1" not in log.read_text()
