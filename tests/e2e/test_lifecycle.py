"""Log files, their rotation and level, and graceful shutdown with requests in flight."""

import errno
import re
import signal
import socket
import time
import zipfile

import numpy as np
import pytest
import requests

from conftest import EXAMPLES, wait_for
from origin import Origin
from test_scheduling import COLOURS, MODEL, UNBATCHED, Call, answer, jpeg, wait_for_statistics

SAMPLE = (EXAMPLES / "samples" / "digit-7-7.png").read_bytes()
MODEL_ARG = f"digits={EXAMPLES / 'digits-cnn.model'}"

# One line of the log: local date and time with milliseconds, the level, the logger's label, the
# message and its metadata (see Sources/DMSLogging/DMSLogHandler.swift).
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL) \[[^\]]*\] (.*)")
SEVERITY = {name: rank for rank, name in enumerate(["TRACE", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"])}


def predict(server):
    return requests.post(f"{server.url}/digits/predict", files={"input0": ("d.png", SAMPLE)}, timeout=60)


def log_entries(path):
    """(level, message with metadata) for every line of a log file; every line must be one."""
    entries = []
    for line in path.read_text().splitlines():
        match = LOG_LINE.fullmatch(line)
        assert match, f"not a log line: {line!r}"
        entries.append((match.group(1), match.group(2)))
    return entries


def test_log_file_is_written_and_rotated(start_server, tmp_path):
    log = tmp_path / "logs" / "server.log"
    server = start_server("--models", MODEL_ARG, "--log-rotation-time", "1 S", "--log-level", "DEBUG", log_file=log, cwd=tmp_path)
    assert wait_for(lambda: log.exists() and "listening on" in log.read_text())
    # Rotation happens at the first line written after the period ends: here the shutdown lines.
    assert predict(server).status_code == 200
    time.sleep(1.5)
    assert server.stop() == 0
    rotated = sorted(p.name for p in log.parent.iterdir() if p.name != log.name)
    assert rotated, "no rotated log file"
    assert all(re.fullmatch(r"server\.log\.\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d", name) for name in rotated), rotated
    current = log_entries(log)
    assert ("INFO", "server stopped") in current, current
    # The start-up lines went into the rotated files, not the current one.
    assert not [message for _, message in current if message.startswith("listening")], current
    older = [entry for name in rotated for entry in log_entries(log.parent / name)]
    assert [message for level, message in older if level == "INFO" and message.startswith("listening address=http://")], older


def broken_archive(folder):
    path = folder / "broken.model"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("signature.json", "{not json")
    return path


# A message of each level that the run below logs: (level, how the message starts).
MESSAGES_BY_LEVEL = [
    ("DEBUG", "using cached unpacked model "),
    ("INFO", "listening address=http://"),
    ("WARNING", "cannot revalidate the cached download; using the cached copy "),
    ("ERROR", "model failed to load model=broken "),
]


def test_log_level_filters(start_server, tmp_path):
    """One start that logs a message at each of DEBUG, INFO, WARNING and ERROR (a cached
    download whose origin is gone, a model that fails to load), at several levels: the log
    holds exactly the messages at or above the level, each with its level."""
    origin = Origin()
    origin.put("/m.model", (EXAMPLES / "digits-mlp.model").read_bytes())
    store = tmp_path / "store"
    broken = broken_archive(tmp_path)
    models = ["--allow-model-failures", "--download-timeout", "2", "--models", f"m={origin.url}/m.model", f"broken={broken}"]
    first = start_server(*models, store_dir=store, log_file=tmp_path / "first.log")  # fills the cache
    assert first.stop() == 0, first.output
    origin.close()

    for level in ("DEBUG", "WARNING", "ERROR"):
        log = tmp_path / f"{level}.log"
        server = start_server(*models, "--log-level", level, store_dir=store, log_file=log)
        response = requests.post(f"{server.url}/m/predict", files={"input0": ("d.png", SAMPLE)}, timeout=60)
        assert response.status_code == 200, response.text
        assert response.json()["prediction"][0][0]["class"] == "7"
        assert server.stop() == 0, server.output
        entries = log_entries(log)
        below = [entry for entry in entries if SEVERITY[entry[0]] < SEVERITY[level]]
        assert not below, (level, below)
        for message_level, start in MESSAGES_BY_LEVEL:
            logged = [entry for entry in entries if entry[1].startswith(start)]
            if SEVERITY[message_level] >= SEVERITY[level]:
                assert logged and all(entry[0] == message_level for entry in logged), (level, message_level, start, entries)
            else:
                assert not logged, (level, logged)


def refuses_connections(host, port):
    """True when a new connection is refused (nothing listens), False when it is accepted."""
    try:
        socket.create_connection((host, port), timeout=5).close()
        return False
    except ConnectionRefusedError:
        return True


def caused_by_refused_connection(error):
    """Whether a requests error comes from a connection that was refused (never accepted), as
    opposed to one accepted and then dropped."""
    seen = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError) or getattr(current, "errno", None) == errno.ECONNREFUSED:
            return True
        pending += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        pending += [arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException)]
    return False


def stop_with_requests_in_flight(start_server, slow_models, sig):
    """Queues requests behind a running one on a slow model (0.4 s per engine call, one worker,
    no batching), sends `sig` once GET /statistics shows all of them inside the server, and
    checks the shutdown: the server stops listening while they are still in flight (a new
    connection is refused, a new request fails to connect), answers every one of them 200 with
    the prediction that image gets alone, and exits 0."""
    server = start_server("--service", "mxnet_model_service", *UNBATCHED, "--models", f"{MODEL}={slow_models['mxnet']}")
    host, port = server.url.removeprefix("http://").split(":")
    port = int(port)
    images = [jpeg(colour) for colour in COLOURS]
    alone = [answer(Call(server, image).result()) for image in images]

    calls = []
    for index, image in enumerate(images):
        calls.append(Call(server, image))
        # One at a time, so they run in this order: the first one running, the others queued.
        wait_for_statistics(server, lambda s: s["running"] + s["queued"] == index + 1, f"{index + 1} requests in flight", during=calls[0])
    stats = wait_for_statistics(server, lambda s: s["running"] == 1 and s["queued"] == len(images) - 1, "1 running, the rest queued", during=calls[0])
    assert calls[-1].answered is None, stats
    server.process.send_signal(sig)

    assert wait_for(lambda: refuses_connections(host, port), timeout=10, interval=0.01), "the server kept listening after the signal"
    stopped_listening = time.monotonic()
    assert server.process.poll() is None, "the server exited before answering the requests in flight"
    with pytest.raises(requests.ConnectionError) as late:
        requests.post(f"{server.url}/{MODEL}/predict", files={"input0": ("image.jpg", images[0], "image/jpeg")}, timeout=30)
    assert caused_by_refused_connection(late.value), f"a request sent after the server stopped listening was not refused: {late.value!r}"

    # Every request the server had accepted is answered, in full and correctly; a dropped one
    # raises here (Call.result re-raises the client's error).
    for index, (call, expected) in enumerate(zip(calls, alone)):
        got = answer(call.result())
        assert np.abs(got - expected).max() <= 1e-5, (index, got, expected)
    assert max(call.answered for call in calls) > stopped_listening, "nothing was still in flight when the server stopped listening"
    assert server.wait_for_exit(60) == 0, server.output
    assert "server stopped" in server.output


def test_sigterm_finishes_requests_in_flight_then_exits_zero(start_server, slow_models):
    stop_with_requests_in_flight(start_server, slow_models, signal.SIGTERM)


def test_sigint_also_stops_cleanly(start_server, slow_models):
    stop_with_requests_in_flight(start_server, slow_models, signal.SIGINT)
