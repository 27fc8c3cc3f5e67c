"""The container image, as a user runs it: scripts/build-image.sh builds it with podman (no Docker
daemon, no registry), then real containers serve the bundled examples, a mounted folder and models
given as arguments, each on a published loopback port, answering real HTTP requests.

Needs root (podman rootful with runc, debootstrap), as CI and scripts/test.sh run.
"""

import json
import os
import shutil
import socket
import struct
import subprocess
import textwrap
import threading
import time
import uuid

import pytest
import requests

from conftest import EXAMPLES, ROOT, wait_for
from protocol_clients import GRPCImageRequest

IMAGE = "localhost/deep-model-server:e2e"
PODMAN_ENV = {**os.environ, "CONTAINERS_CONF": str(ROOT / "container" / "containers.conf")}
SAMPLE = EXAMPLES / "samples" / "digit-7-7.png"

# The seed's digits service, slowed down, so a request is still in flight when the container is
# stopped; it imports mxnet and the service runtime, as seed-era services do.
SLOW_SERVICE = """
import sys
import time
from dms.mxnet_utils import image, ndarray
from dms.mxnet_model_service import MXNetBaseService


class SlowDigitsService(MXNetBaseService):
    def _preprocess(self, data):
        print("slow service: request received", file=sys.stderr, flush=True)
        time.sleep(3)
        _, _, height, width = self.signature["inputs"][0]["data_shape"]
        return [image.transform_shape(image.resize(image.read(data[0], flag=0), width, height))]

    def _postprocess(self, data):
        return [ndarray.top_probability(d, self.labels, top=1) for d in data]
"""


def podman(*args, timeout=120, check=True):
    result = subprocess.run(["podman", *args], env=PODMAN_ENV, capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, f"podman {' '.join(args)}: {result.stderr}"
    return result


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Container:
    """One detached container of the image with its ports 8080 (HTTP) and 8001 (gRPC) published
    on loopback ports."""

    def __init__(self, *arguments, volumes=(), options=()):
        self.name = f"dms-e2e-{uuid.uuid4().hex[:8]}"
        self.url = f"http://127.0.0.1:{free_port()}"
        self.grpc_address = f"127.0.0.1:{free_port()}"
        self.arguments = arguments
        self.options = [option for volume in volumes for option in ("-v", volume)] + list(options)

    def start(self):
        port = self.url.rsplit(":", 1)[1]
        grpc_port = self.grpc_address.rsplit(":", 1)[1]
        podman(
            "run", "-d", "--name", self.name, "-p", f"127.0.0.1:{port}:8080", "-p", f"127.0.0.1:{grpc_port}:8001", *self.options, IMAGE, *self.arguments
        )
        return self

    def wait_ready(self, timeout=120):
        def ready():
            state = podman("inspect", "--format", "{{.State.Running}}", self.name).stdout.strip()
            assert state == "true", f"the container stopped:\n{self.logs()}"
            try:
                return requests.get(f"{self.url}/health/ready", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        assert wait_for(ready, timeout=timeout, interval=0.25), f"not ready after {timeout} s:\n{self.logs()}"
        return self

    def logs(self):
        result = podman("logs", self.name, check=False)
        return result.stdout + result.stderr

    def exit_code(self):
        return int(podman("inspect", "--format", "{{.State.ExitCode}}", self.name).stdout.strip())

    def remove(self):
        podman("rm", "-f", "-t", "0", self.name, check=False)


@pytest.fixture(scope="module")
def image():
    """Builds the image the way the README says; every step is skipped when done already."""
    build = subprocess.run(
        [str(ROOT / "scripts" / "build-image.sh"), "--tag", IMAGE], env=PODMAN_ENV, capture_output=True, text=True, timeout=3600
    )
    assert build.returncode == 0, build.stdout + build.stderr
    print(build.stdout.strip().splitlines()[-2])
    return IMAGE


@pytest.fixture
def containers():
    started = []

    def start(*arguments, volumes=(), options=()):
        container = Container(*arguments, volumes=volumes, options=options)
        started.append(container)  # before it runs: a failed start may still leave a container
        return container.start()

    yield start
    for container in started:
        container.remove()


def served(container):
    return requests.get(f"{container.url}/statistics", timeout=10).json()["models"]


def predict(container, model, sample=SAMPLE):
    answer = requests.post(f"{container.url}/{model}/predict", files={"input0": (sample.name, sample.read_bytes())}, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def top_class(answer):
    return answer["prediction"][0][0]["class"]


def test_image_serves_the_bundled_examples_as_an_unprivileged_user(image, containers):
    container = containers().wait_ready()

    assert sorted(served(container)) == ["digits-cnn", "digits-cnn-onnx", "digits-mlp"]
    for model in ("digits-cnn", "digits-cnn-onnx", "digits-mlp"):
        assert top_class(predict(container, model)) == "7"

    assert podman("exec", container.name, "id", "-u").stdout.strip() == "10001"
    assert podman("image", "inspect", "--format", "{{.Config.User}}", IMAGE).stdout.strip() == "10001:10001"
    assert podman("healthcheck", "run", container.name).returncode == 0
    # A first argument that is not an option runs as a command: here, what services import.
    imports = podman("run", "--rm", IMAGE, "python3", "-c", "import mxnet, numpy, PIL; print(mxnet.__version__, numpy.__version__)")
    assert imports.stdout.split() == ["1.9.1", "1.23.5"], imports.stderr
    assert podman("run", "--rm", IMAGE, "test", "-s", "/usr/share/doc/onnxruntime/ThirdPartyNotices.txt", check=False).returncode == 0
    # The cores the default --engine-threads comes from are the container's CPU limit, not the host's.
    version = podman("run", "--rm", "--cpus", "1", IMAGE, "--version")
    assert "CPU cores available: 1 " in version.stdout, version.stdout + version.stderr
    home = podman("exec", container.name, "ls", "-A", "/var/lib/dms").stdout.split()
    assert "model-store" in home and not [name for name in home if name.startswith("dms_app.log")], "logs go to stderr, not to a file"
    logs = container.logs()
    assert "listening on http://0.0.0.0:8080" in logs
    # The management API stays on the container's loopback unless asked otherwise.
    assert "management API listening on http://127.0.0.1:8081" in logs


def test_image_serves_every_model_of_a_mounted_folder_with_both_engines(image, containers, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(EXAMPLES / "digits-mlp.model", models / "mlp.model")
    shutil.copytree(EXAMPLES / "digits-cnn-onnx", models / "cnn-onnx")
    (models / "notes.txt").write_text("not a model: skipped")
    (models / "lost+found").mkdir()  # the root of a fresh volume
    shutil.copytree(EXAMPLES / "digits-cnn-onnx", models / "v2")  # a route's name
    models.chmod(0o755)

    container = containers(volumes=[f"{models}:/models:ro"]).wait_ready()

    assert sorted(served(container)) == ["cnn-onnx", "mlp"]
    logs = container.logs()
    for skipped in ("notes.txt", "lost+found", "v2"):
        assert f"skipping /models/{skipped}" in logs, logs
    assert top_class(predict(container, "mlp")) == "7"
    assert top_class(predict(container, "cnn-onnx")) == "7"


def test_stop_finishes_the_request_in_flight_then_exits_cleanly(image, containers, tmp_path):
    """Models given as arguments, with a Python service from a mounted folder; SIGTERM from
    `podman stop` arrives while a request is in the service's hands."""
    folder = tmp_path / "services"
    folder.mkdir()
    (folder / "slow_service.py").write_text(textwrap.dedent(SLOW_SERVICE))
    folder.chmod(0o755)
    container = containers(
        "--models", "slow=/models/digits-mlp.model", "--service", "/services/slow_service.py", volumes=[f"{folder}:/services:ro"]
    ).wait_ready()
    assert sorted(served(container)) == ["slow"]

    answers = []
    request = threading.Thread(target=lambda: answers.append(predict(container, "slow")))
    request.start()
    assert wait_for(lambda: "slow service: request received" in container.logs(), timeout=30), container.logs()
    started = time.monotonic()
    podman("stop", "-t", "30", container.name, timeout=60)
    stopped_after = time.monotonic() - started
    request.join(timeout=60)

    assert answers and top_class(answers[0]) == "7", container.logs()
    assert container.exit_code() == 0, container.logs()
    assert stopped_after < 15, f"stop took {stopped_after:.1f} s (SIGKILL comes at 30 s)"


def test_kserve_layout_on_a_read_only_root(image, containers, tmp_path):
    """As deploy/kubernetes/kserve-servingruntime.yaml runs it: the model's folder read-only at
    /mnt/models, named by the arguments KServe fills in, a read-only root filesystem with an
    empty writable /var/lib/dms; answered over the Open Inference Protocol, REST and gRPC."""
    model = tmp_path / "mnt-models"
    shutil.copytree(EXAMPLES / "digits-cnn-onnx", model)
    model.chmod(0o755)
    container = containers(
        "--models", "digits=/mnt/models", volumes=[f"{model}:/mnt/models:ro"],
        options=["--read-only", "--tmpfs", "/var/lib/dms:rw,mode=1777"],
    ).wait_ready()
    assert requests.get(f"{container.url}/v2/health/ready", timeout=10).status_code == 200
    png = (EXAMPLES / "samples" / "digit-7-7.png").read_bytes()
    header = json.dumps({"inputs": [{"name": "data", "shape": [1], "datatype": "BYTES", "parameters": {"binary_data_size": 4 + len(png)}}]})
    answer = requests.post(
        f"{container.url}/v2/models/digits/infer", data=header.encode() + struct.pack("<I", len(png)) + png,
        headers={"Inference-Header-Content-Length": str(len(header))}, timeout=60)
    assert answer.status_code == 200, answer.text
    (output,) = answer.json()["outputs"]
    assert output["shape"] == [1, 10] and max(range(10), key=output["data"].__getitem__) == 7
    grpc_request = GRPCImageRequest(container.grpc_address, "digits", "data", EXAMPLES / "samples" / "digit-7-7.png")
    grpc_request.send()
    (grpc_output,) = grpc_request.outputs().values()
    assert max(abs(a - b) for a, b in zip(grpc_output[0], output["data"])) <= 1e-6, (grpc_output, output)
