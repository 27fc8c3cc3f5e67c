"""Fixtures for the end-to-end tests: the real `deep-model-server` binary with the real MXNet
engine, started on a free loopback port, and the models the tests serve.

Environment (set by scripts/test.sh): DMS_SERVER_BINARY, DMS_EXPORT_BINARY, DMS_MXNET_LIBRARY.
Servers run one at a time: several processes loading libmxnet at once on a 2-core machine are
slow enough to time out.
"""

import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest
from origin import Origin
from s3_fixtures import moto_s3_anonymous, moto_s3_with_auth  # noqa: F401  (fixtures)

ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVER_BINARY = pathlib.Path(os.environ.get("DMS_SERVER_BINARY", ROOT / ".build/debug/deep-model-server"))
EXPORT_BINARY = pathlib.Path(os.environ.get("DMS_EXPORT_BINARY", ROOT / ".build/debug/deep-model-export"))
EXAMPLES = ROOT / "examples"
IMAGES = pathlib.Path(__file__).resolve().parent / "images"
LISTENING = re.compile(r"^listening on http://([0-9.]+):(\d+)")
MANAGEMENT_LISTENING = re.compile(r"^management API listening on http://([0-9.]+):(\d+)")
GRPC_LISTENING = re.compile(r"^gRPC listening on ([0-9.]+):(\d+)")


class Server:
    """One running deep-model-server process; its output is collected line by line."""

    def __init__(self, args, cwd, env=None, wait=True, timeout=120, binary=SERVER_BINARY, stderr=subprocess.STDOUT):
        """`stderr`: where the server's standard error goes; by default into the collected output."""
        full_env = dict(os.environ)
        full_env.update(env or {})  # a value None removes the variable
        full_env = {name: value for name, value in full_env.items() if value is not None}
        self.lines = []
        self.url = None
        self.management_url = None
        self.grpc_address = None  # host:port of the Open Inference Protocol's gRPC listener
        self._ready = threading.Event()
        self.process = subprocess.Popen(
            [str(binary), *[str(a) for a in args]],
            cwd=cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if wait:
            self.wait_until_listening(timeout)

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            grpc = GRPC_LISTENING.search(line)
            if grpc and self.grpc_address is None:
                self.grpc_address = f"{grpc.group(1)}:{grpc.group(2)}"
            management = MANAGEMENT_LISTENING.search(line)
            if management and self.management_url is None:
                self.management_url = f"http://{management.group(1)}:{management.group(2)}"
            match = LISTENING.search(line)
            if match and self.url is None:
                self.url = f"http://{match.group(1)}:{match.group(2)}"
                self._ready.set()
        self._ready.set()

    @property
    def output(self):
        return "\n".join(self.lines)

    def wait_until_listening(self, timeout=120):
        if not self._ready.wait(timeout) or self.url is None:
            self.stop(signal.SIGKILL)
            raise AssertionError(f"server did not start listening:\n{self.output}")

    def wait_for_grpc(self, timeout=10):
        """The gRPC listener's host:port (it starts beside the HTTP listener, in no set order)."""
        deadline = time.monotonic() + timeout
        while self.grpc_address is None and time.monotonic() < deadline and self.process.poll() is None:
            time.sleep(0.01)
        assert self.grpc_address, f"no gRPC listener:\n{self.output}"
        return self.grpc_address

    def wait_for_exit(self, timeout=120):
        code = self.process.wait(timeout)
        self._reader.join(10)
        return code

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.wait_for_exit(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"server did not stop within {timeout} s after {sig}:\n{self.output}")


@pytest.fixture
def origin():
    """An HTTP origin on loopback whose answers each test sets (tests/e2e/origin.py)."""
    server = Origin()
    yield server
    server.close()


@pytest.fixture(scope="session")
def start_server(tmp_path_factory):
    """Starts servers that are stopped at the end of the test session at the latest."""
    started = []
    store = tmp_path_factory.mktemp("store")

    def start(*args, store_dir=None, cwd=None, env=None, wait=True, log_file=None, binary=SERVER_BINARY, stderr=subprocess.STDOUT):
        workdir = pathlib.Path(cwd) if cwd else tmp_path_factory.mktemp("server")
        log = log_file or workdir / "dms_app.log"
        server = Server(
            ["--port", "0", "--management-port", "0", "--grpc-port", "0", "--model-store", store_dir or store, "--log-file", log, *args],
            cwd=workdir,
            env=env,
            wait=wait,
            binary=binary,
            stderr=stderr,
        )
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.stop(signal.SIGKILL)


def export_model(name, folder, output):
    """Packs a model folder with the project's own deep-model-export."""
    result = subprocess.run(
        [str(EXPORT_BINARY), "--model-name", name, "--model-path", str(folder), "--output", str(output), "--force"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return pathlib.Path(output) / f"{name}.model"


@pytest.fixture(scope="session")
def test_models(tmp_path_factory):
    """Echo models (output = input, flattened) made with MXNet by scripts/make_test_models.py
    and packed with deep-model-export: name -> archive path. `echo-json` takes its [N, 1, 8, 8]
    input as a JSON tensor; `identity-rgb` returns its [N, 3, 32, 32] input unchanged, as an
    image output (output_type image/jpeg); `add-mul` takes two JSON inputs `a`, `b` and returns
    two outputs, `a + b` and `a * b`."""
    folders = tmp_path_factory.mktemp("models")
    archives = tmp_path_factory.mktemp("archives")
    subprocess.run(
        [sys.executable, str(ROOT / "scripts/make_test_models.py"), str(folders), "--echo", "echo-gray-8=1x8x8"],
        check=True,
        capture_output=True,
    )
    json_echo = folders / "echo-json"
    shutil.copytree(folders / "echo-gray-8", json_echo)
    signature = json.loads((json_echo / "signature.json").read_text())
    signature["input_type"] = "application/json"
    (json_echo / "signature.json").write_text(json.dumps(signature))
    identity = folders / "identity-rgb"
    identity.mkdir()
    shutil.copy(folders / "echo-rgb" / "echo-rgb-0000.params", identity / "identity-0000.params")
    (identity / "identity-symbol.json").write_text(json.dumps({
        "nodes": [{"op": "null", "name": "data", "inputs": []}, {"op": "_copy", "name": "copy0", "inputs": [[0, 0, 0]]}],
        "arg_nodes": [0], "node_row_ptr": [0, 1, 2], "heads": [[1, 0, 0]], "attrs": {"mxnet_version": ["int", 10901]},
    }))
    (identity / "signature.json").write_text(json.dumps({
        "inputs": [{"data_name": "data", "data_shape": [0, 3, 32, 32]}], "input_type": "image/jpeg",
        "outputs": [{"data_name": "copy0_output", "data_shape": [0, 3, 32, 32]}], "output_type": "image/jpeg",
    }))
    two = folders / "add-mul"
    two.mkdir()
    shutil.copy(folders / "echo-rgb" / "echo-rgb-0000.params", two / "add-mul-0000.params")
    (two / "add-mul-symbol.json").write_text(json.dumps({
        "nodes": [
            {"op": "null", "name": "a", "inputs": []},
            {"op": "null", "name": "b", "inputs": []},
            {"op": "elemwise_add", "name": "sum", "inputs": [[0, 0, 0], [1, 0, 0]]},
            {"op": "elemwise_mul", "name": "product", "inputs": [[0, 0, 0], [1, 0, 0]]},
        ],
        "arg_nodes": [0, 1], "node_row_ptr": [0, 1, 2, 3, 4], "heads": [[2, 0, 0], [3, 0, 0]],
        "attrs": {"mxnet_version": ["int", 10901]},
    }))
    (two / "signature.json").write_text(json.dumps({
        "inputs": [{"data_name": "a", "data_shape": [0, 4]}, {"data_name": "b", "data_shape": [0, 4]}],
        "input_type": "application/json",
        "outputs": [{"data_name": "sum", "data_shape": [0, 4]}, {"data_name": "product", "data_shape": [0, 4]}],
        "output_type": "application/json",
    }))
    names = ("echo-rgb", "echo-gray", "echo-gray-8", "echo-json", "identity-rgb", "add-mul")
    return {name: export_model(name, folders / name, archives) for name in names}


@pytest.fixture(scope="session")
def slow_models(tmp_path_factory):
    """The deliberately slow image classifiers of `scripts/make_test_models.py --slow` (about
    0.4 s of engine time per 384x384 image on 2 cores), to hold a model's worker busy:
    {"mxnet": folder, "onnx": folder}, the same weights for both engines. The generator's report
    (timings, parity) is kept in `make_test_models.log` beside the folders."""
    folders = tmp_path_factory.mktemp("slow-models")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts/make_test_models.py"), str(folders), "--slow"],
        capture_output=True,
        text=True,
    )
    (folders / "make_test_models.log").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    return {"mxnet": folders / "slow-mx", "onnx": folders / "slow-onnx"}


def slow_model_variant(folder, destination, size=None, batch=None):
    """A copy of a slow model folder whose signature takes size x size images (the networks
    take any size; the engine time grows with size squared) and/or a fixed batch dimension."""
    shutil.copytree(folder, destination)
    path = pathlib.Path(destination) / "signature.json"
    signature = json.loads(path.read_text())
    if size is not None:
        signature["inputs"][0]["data_shape"][2:] = [size, size]
    if batch is not None:
        signature["inputs"][0]["data_shape"][0] = batch
        signature["outputs"][0]["data_shape"][0] = batch
    path.write_text(json.dumps(signature, indent=2) + "\n")
    return pathlib.Path(destination)


@pytest.fixture(scope="module")
def digits_server(start_server):
    """Both bundled example models in one server, with their default (vision) service."""
    server = start_server(
        "--models", f"digits-mlp={EXAMPLES / 'digits-mlp.model'}", f"digits-cnn={EXAMPLES / 'digits-cnn.model'}"
    )
    yield server
    assert server.stop() == 0, server.output


# Exit statuses (swift-argument-parser's): an error thrown while the server starts, such as a
# model that fails to load or a location that cannot be used, exits EXIT_FAILURE; a command line
# refused before anything starts (bad arguments) exits EX_USAGE. A crash is neither:
# a process killed by a signal has a negative returncode in Python.
START_FAILURE_EXIT = 1
USAGE_EXIT = 64
# What a crash leaves in the output (Swift's runtime traps and backtracer, the C runtime).
CRASH_SIGNS = ("Fatal error", "Program crashed", "Segmentation", "Illegal instruction", "Aborted", "core dumped", "Stack dump", "Backtrace")


def assert_no_crash_signs(output):
    signs = [sign for sign in CRASH_SIGNS if sign in output]
    assert not signs, f"signs of a crash {signs}:\n{output}"


def assert_failed_start(server, *fragments, timeout=120):
    """A server that must refuse to start: it never listens, exits with START_FAILURE_EXIT (not a
    crash, not 0), its output holds every fragment and no sign of a crash. Returns the output."""
    code = server.wait_for_exit(timeout)
    output = server.output
    assert code == START_FAILURE_EXIT, f"exit status {code}, expected {START_FAILURE_EXIT}:\n{output}"
    assert server.url is None, output
    assert_no_crash_signs(output)
    for fragment in fragments:
        assert fragment in output, f"{fragment!r} not in:\n{output}"
    return output


def resident_kib(server):
    """The server process's resident memory (VmRSS), in KiB."""
    for line in open(f"/proc/{server.process.pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def temporary_files(store):
    """The temporary files and folders (`.partial-*`) in a model store, relative to it."""
    return sorted(p.relative_to(store).as_posix() for p in store.rglob(".partial-*"))


def wait_for(predicate, timeout=30, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


@pytest.fixture(scope="session")
def s3_object_file():
    """The archive the S3 fixtures upload: the bundled MLP example."""
    return EXAMPLES / "digits-mlp.model"
