"""Faults (docs/reliability.md): the process killed with SIGKILL at random points of a download
and of an unpack, the model store on a full and on a read-only file system, an engine library
that cannot be loaded, a corrupt ONNX file. Each ends in a clear error or in a later start that
serves; never a crash, never a store the next start cannot use.

The kill points come from a seeded random generator (DMS_FAULT_SEED, default 20261204) and the
number of rounds from DMS_FAULT_ROUNDS (default 4: eight kills; raise it for a longer run)."""

import io
import os
import random
import signal
import subprocess
import zipfile

import pytest
import requests

from conftest import EXAMPLES, assert_failed_start, assert_no_crash_signs, temporary_files, wait_for

MLP_FOLDER = EXAMPLES / "digits-mlp"
SAMPLE = (EXAMPLES / "samples" / "digit-7-7.png").read_bytes()
SEED = int(os.environ.get("DMS_FAULT_SEED", "20261204"))
ROUNDS = int(os.environ.get("DMS_FAULT_ROUNDS", "4"))


def predicts(server, model="m"):
    response = requests.post(f"{server.url}/{model}/predict", files={"input0": ("d.png", SAMPLE)}, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json()["prediction"][0][0]["class"] == "7"


@pytest.fixture(scope="module")
def big_archive():
    """The MLP example with 40 MB of incompressible padding: its download and its unpacking take
    long enough to be interrupted at chosen points."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in MLP_FOLDER.iterdir():
            archive.writestr(file.name, file.read_bytes())
        archive.writestr("padding.bin", random.Random(SEED).randbytes(40 << 20))
    return out.getvalue()


def kill_after(server, lines, delay, timeout=60):
    """SIGKILLs the server `delay` seconds after one of `lines` appears in its output."""
    assert wait_for(lambda: any(line in server.output for line in lines) or server.process.poll() is not None, timeout=timeout), server.output
    assert server.process.poll() is None, f"the server exited before it could be killed:\n{server.output}"
    wait_for(lambda: server.process.poll() is not None, timeout=delay, interval=0.01)
    server.process.send_signal(signal.SIGKILL)
    assert server.wait_for_exit(30) == -signal.SIGKILL


def test_sigkill_during_downloads_and_unpacks_leaves_a_store_the_next_start_serves_from(start_server, origin, tmp_path, big_archive):
    origin.trickle("/m.model", big_archive)
    rng = random.Random(SEED)
    location = f"m={origin.url}/m.model"
    for round_number in range(ROUNDS):
        store = tmp_path / f"store-{round_number}"
        # Killed somewhere in the download (it takes about 3 s), then somewhere in the unpack
        # that follows the next, complete, download: the same store throughout.
        downloading = start_server("--models", location, store_dir=store, wait=False)
        kill_after(downloading, ["downloading model"], rng.uniform(0, 3))
        unpacking = start_server("--models", location, store_dir=store, wait=False)
        kill_after(unpacking, ["downloaded model", "cached download is current"], rng.uniform(0, 0.5))
        server = start_server("--models", location, store_dir=store)
        predicts(server)
        assert temporary_files(store) == [], temporary_files(store)
        assert server.stop() == 0, server.output
        assert_no_crash_signs(server.output)


def mount_tmpfs(path, size, read_only=False):
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip()}); these faults need root")
    return path


@pytest.fixture
def small_file_system(tmp_path):
    mounted = []

    def make(name, size, read_only=False):
        mounted.append(mount_tmpfs(tmp_path / name, size, read_only))
        return mounted[-1]

    yield make
    for path in mounted:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_store_is_a_clear_load_error_and_a_later_start_serves(start_server, origin, small_file_system, big_archive):
    origin.put("/m.model", big_archive)
    store = small_file_system("full-store", "8m")
    server = start_server("--models", f"m={origin.url}/m.model", store_dir=store, wait=False)
    output = assert_failed_start(server, "models failed to load: m: ")
    assert "No space left on device" in output, output
    assert temporary_files(store) == []
    # Room made (the operator grows the volume): the same store serves.
    subprocess.run(["mount", "-o", "remount,size=200m", str(store)], check=True)
    server = start_server("--models", f"m={origin.url}/m.model", store_dir=store)
    predicts(server)
    assert server.stop() == 0, server.output


def test_a_full_store_while_unpacking_a_local_archive(start_server, small_file_system, tmp_path, big_archive):
    archive = tmp_path / "big.model"
    archive.write_bytes(big_archive)
    store = small_file_system("unpack-store", "20m")
    server = start_server("--models", f"m={archive}", store_dir=store, wait=False)
    output = assert_failed_start(server, "models failed to load: m: ")
    assert "No space left on device" in output or "enough space" in output, output
    assert temporary_files(store) == []


def test_a_read_only_store_is_a_clear_error(start_server, small_file_system):
    store = small_file_system("read-only-store", "8m", read_only=True)
    server = start_server("--models", f"m={EXAMPLES / 'digits-mlp.model'}", store_dir=store, wait=False)
    output = assert_failed_start(server, "models failed to load: m: ", "model store")
    # Foundation's words for EROFS; the store's path holds "read-only" too, so not that.
    assert "read only" in output or "Read-only file system" in output, output


@pytest.mark.parametrize("content", [b"not a shared library", b"\x7fELF" + bytes(60)], ids=["text-file", "truncated-elf"])
def test_an_engine_library_that_cannot_be_loaded_is_a_clear_load_error(start_server, tmp_path, content):
    library = tmp_path / "libmxnet.so"
    library.write_bytes(content)
    server = start_server("--models", f"m={EXAMPLES / 'digits-mlp.model'}", env={"DMS_MXNET_LIBRARY": str(library)}, wait=False)
    assert_failed_start(server, "models failed to load: m: ", "libmxnet.so")


@pytest.mark.parametrize(
    "content",
    [b"", b"not a protobuf at all", bytes(range(256)) * 16, (EXAMPLES / "iris-onnx" / "iris.onnx").read_bytes()[:300]],
    ids=["empty", "text", "binary-garbage", "truncated"],
)
def test_a_corrupt_onnx_file_is_a_load_error(start_server, tmp_path, content):
    model = tmp_path / "broken.onnx"
    model.write_bytes(content)
    server = start_server("--models", f"broken={model}", wait=False)
    assert_failed_start(server, "models failed to load: broken: ")
