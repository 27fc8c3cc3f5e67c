"""The Open Inference Protocol's Python clients that cannot run in the tests' own venv
(tritonclient.grpc needs protobuf < 7; kserve cannot share a process with tritonclient): they run
as processes of .runtime/clients-venv (scripts/bootstrap.sh --with-clients), from the scripts in
tests/e2e/clients/."""

import json
import pathlib
import subprocess

from conftest import ROOT

CLIENTS_PYTHON = ROOT / ".runtime" / "clients-venv" / "bin" / "python"
CLIENTS = pathlib.Path(__file__).resolve().parent / "clients"


def run_case(script, *arguments, timeout=180):
    """Runs one case of a client script; fails the test with the client's output unless it passes."""
    assert CLIENTS_PYTHON.exists(), f"{CLIENTS_PYTHON} is missing: run scripts/bootstrap.sh --with-clients"
    result = subprocess.run(
        [str(CLIENTS_PYTHON), str(CLIENTS / script), *[str(a) for a in arguments]], capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{script} {' '.join(map(str, arguments))} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


class GRPCImageRequest:
    """One image sent over gRPC by tritonclient.grpc in a client process, prepared up front (the
    process imports and connects, which takes a second) and sent by `send()`, with `timeout` as
    tritonclient's client_timeout (seconds); `outputs()` waits for the answer: output name ->
    nested list, or {"error": status, "message": …}."""

    def __init__(self, address, model, input_name, image_path, timeout=None):
        self.process = subprocess.Popen(
            [str(CLIENTS_PYTHON), str(CLIENTS / "triton_grpc_cases.py"), address, "infer-image", model, input_name, str(image_path)]
            + ([str(timeout)] if timeout else []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        ready = self.process.stdout.readline().strip()
        assert ready == "ready", f"the gRPC client did not start: {ready}{self.process.stderr.read()}"

    def send(self):
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def outputs(self, timeout=120):
        stdout, stderr = self.process.communicate(timeout=timeout)
        assert self.process.returncode == 0, f"the gRPC client failed:\n{stdout}\n{stderr}"
        return json.loads(stdout.splitlines()[0])
