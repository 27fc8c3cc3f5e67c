"""Starts that are interrupted, and what crashed runs leave behind: SIGTERM or SIGINT while a
model downloads stops the server promptly with a clear message and a consistent store, and the
temporary files of killed runs are removed at the next start unless another server uses the
store."""

import signal
import time

import pytest
import requests

from conftest import EXAMPLES, assert_no_crash_signs, temporary_files, wait_for

MLP = (EXAMPLES / "digits-mlp.model").read_bytes()
SAMPLE = (EXAMPLES / "samples" / "digit-7-7.png").read_bytes()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_a_download_stops_promptly_and_leaves_the_store_clean(start_server, origin, tmp_path, sig):
    origin.stall("/m.model", MLP)
    store = tmp_path / "store"
    server = start_server("--models", f"m={origin.url}/m.model", "--download-timeout", "120", store_dir=store, wait=False)
    # The download has started once its temporary file exists.
    assert wait_for(lambda: temporary_files(store), timeout=60), server.output
    assert server.process.poll() is None, server.output
    started = time.monotonic()
    code = server.stop(sig, timeout=30)
    elapsed = time.monotonic() - started
    assert code == 0, server.output
    assert elapsed < 5, f"took {elapsed:.1f} s to stop:\n{server.output}"
    assert "stopped by a signal while loading models; nothing was served" in server.output
    # The management API listens from the start; the inference API never did.
    assert server.url is None and not any(line.startswith("listening on") for line in server.lines), server.output
    assert_no_crash_signs(server.output)
    assert temporary_files(store) == []
    assert sorted(p.name for p in (store / "downloads").iterdir()) == []


def test_a_signal_between_two_models_unloads_the_first(start_server, origin, tmp_path):
    origin.stall("/slow.model", MLP)
    store = tmp_path / "store"
    server = start_server(
        "--models", f"first={EXAMPLES / 'digits-mlp.model'}", f"slow={origin.url}/slow.model", store_dir=store, wait=False
    )
    assert wait_for(lambda: "downloading model" in server.output, timeout=60), server.output
    code = server.stop(signal.SIGTERM, timeout=30)
    assert code == 0, server.output
    assert "model ready" in server.output and "model=first" in server.output
    assert "nothing was served" in server.output
    assert temporary_files(store) == []


def test_leftovers_of_killed_runs_are_removed_at_start(start_server, tmp_path):
    store = tmp_path / "store"
    (store / "downloads").mkdir(parents=True)
    (store / "downloads" / ".partial-0A1B").write_bytes(b"half a download")
    (store / "unpacked" / ".partial-2C3D" / "sub").mkdir(parents=True)
    (store / "unpacked" / ".partial-2C3D" / "sub" / "m-symbol.json").write_text("{}")
    (store / "downloads" / "0123456789abcdef-kept.model").write_bytes(b"a complete download")
    server = start_server("--models", f"m={EXAMPLES / 'digits-mlp.model'}", store_dir=store)
    assert temporary_files(store) == []
    assert (store / "downloads" / "0123456789abcdef-kept.model").read_bytes() == b"a complete download"
    assert "removed temporary files that interrupted runs left in the model store" in server.output
    response = requests.post(f"{server.url}/m/predict", files={"input0": ("d.png", SAMPLE)}, timeout=60)
    assert response.status_code == 200, response.text


def test_a_server_sharing_the_store_leaves_the_others_temporary_files_alone(start_server, origin, tmp_path):
    origin.stall("/m.model", MLP)
    store = tmp_path / "store"
    downloading = start_server("--models", f"m={origin.url}/m.model", "--download-timeout", "120", store_dir=store, wait=False)
    assert wait_for(lambda: temporary_files(store), timeout=60), downloading.output
    in_progress = temporary_files(store)
    second = start_server("--models", f"m={EXAMPLES / 'digits-mlp.model'}", store_dir=store)
    assert "another server uses the model store" in second.output
    assert temporary_files(store) == in_progress
    assert downloading.process.poll() is None, downloading.output
    assert second.stop() == 0
    assert downloading.stop() == 0
    assert temporary_files(store) == []
