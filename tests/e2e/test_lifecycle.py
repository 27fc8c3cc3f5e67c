"""Log files and their rotation, and graceful shutdown with requests in flight."""

import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from conftest import EXAMPLES, wait_for

SAMPLE = (EXAMPLES / "samples" / "digit-7-7.png").read_bytes()
MODEL = f"digits={EXAMPLES / 'digits-cnn.model'}"


def predict(server):
    return requests.post(f"{server.url}/digits/predict", files={"input0": ("d.png", SAMPLE)}, timeout=60)


def test_log_file_is_written_and_rotated(start_server, tmp_path):
    log = tmp_path / "logs" / "server.log"
    server = start_server("--models", MODEL, "--log-rotation-time", "1 S", "--log-level", "DEBUG", log_file=log, cwd=tmp_path)
    assert wait_for(lambda: log.exists() and "listening on" in log.read_text())
    # Rotation happens at the first line written after the period ends: here the shutdown lines.
    assert predict(server).status_code == 200
    time.sleep(1.5)
    assert server.stop() == 0
    rotated = sorted(p.name for p in log.parent.iterdir() if p.name != log.name)
    assert rotated, "no rotated log file"
    assert all(re.fullmatch(r"server\.log\.\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d", name) for name in rotated), rotated
    assert "server stopped" in log.read_text()
    assert "INFO" in (log.parent / rotated[0]).read_text()


def test_log_level_filters(start_server, tmp_path):
    log = tmp_path / "quiet.log"
    server = start_server("--models", MODEL, "--log-level", "ERROR", log_file=log)
    assert predict(server).status_code == 200
    assert server.stop() == 0
    assert "INFO" not in log.read_text()


def test_sigterm_finishes_requests_in_flight_then_exits_zero(start_server):
    server = start_server("--models", MODEL)
    results = []
    started = threading.Event()

    def call(_):
        started.set()
        try:
            response = predict(server)
            return response.status_code
        except requests.ConnectionError:
            return "refused"

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(call, i) for i in range(200)]
        started.wait(10)
        time.sleep(0.2)
        server.process.send_signal(signal.SIGTERM)
        results = [future.result() for future in futures]
    assert server.wait_for_exit(60) == 0, server.output
    assert 200 in results
    # Every request either completed or was refused before it was accepted: none got an error
    # status or was cut off half-way.
    assert set(results) <= {200, "refused"}, results
    assert "server stopped" in server.output


def test_sigint_also_stops_cleanly(start_server):
    server = start_server("--models", MODEL)
    assert predict(server).status_code == 200
    assert server.stop(signal.SIGINT) == 0
