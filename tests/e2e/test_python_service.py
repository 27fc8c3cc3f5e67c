"""Custom services in Python, as the seed defined them (`--service my_service.py`): the service's
_preprocess and _postprocess run in worker processes, the model in the server's engine."""

import textwrap

import pytest
import requests

from conftest import EXAMPLES, assert_failed_start, wait_for

DIGITS = EXAMPLES / "digits-mlp.model"
SAMPLES = sorted((EXAMPLES / "samples").glob("digit-*.png"))[:4]

# The seed README's Resnet18Service pattern for the digits model, against both import spellings.
SEED_STYLE = (EXAMPLES / "python-services" / "digits_service.py").read_text()
RELEASED_STYLE = (EXAMPLES / "python-services" / "digits_service_mms.py").read_text()

# A service that fails on purpose, by the first byte of the input: "b" bad input (400), "e" an
# exception (500), "x" the worker process exits, "h" it hangs.
FAILING = """
import os
import time
from dms.errors import InvalidInput
from dms.mxnet_model_service import MXNetBaseService
import numpy as np


class FailingService(MXNetBaseService):
    def _preprocess(self, data):
        first = bytes(data[0][:1])
        if first == b"b":
            raise InvalidInput("this is not a digit")
        if first == b"e":
            raise ValueError("the service broke")
        if first == b"x":
            os._exit(3)
        if first == b"h":
            time.sleep(600)
        return [np.zeros((1, 1, 8, 8))]

    def _postprocess(self, data):
        return "ok"
"""


def write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


@pytest.fixture(scope="module")
def servers(start_server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("services")
    python = start_server("--models", f"digits={DIGITS}", "--service", write(folder, "digits_service.py", SEED_STYLE), "--python-workers", "2")
    released = start_server("--models", f"digits={DIGITS}", "--service", write(folder, "released_service.py", RELEASED_STYLE))
    built_in = start_server("--models", f"digits={DIGITS}")
    yield python, released, built_in
    for server in (python, released, built_in):
        assert server.stop() == 0, server.output


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.name)
def test_seed_style_services_answer_what_the_built_in_service_does(servers, sample):
    """Both import spellings: the seed README's (`dms.*`) and the released package's (`mms.*`)."""
    python, released, built_in = servers
    files = {"input0": (sample.name, sample.read_bytes())}
    expected = requests.post(f"{built_in.url}/digits/predict", files=files, timeout=60)
    for server in (python, released):
        answer = requests.post(f"{server.url}/digits/predict", files=files, timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.json() == expected.json()


def test_concurrent_requests_all_get_their_own_answers_in_batches(start_server, tmp_path):
    """Two workers prepare requests side by side and the engine batches them; a batch's rows
    may differ from single rows in the last float digits (the engine's kernels), no more."""
    from concurrent.futures import ThreadPoolExecutor

    server = start_server(
        "--models", f"digits={DIGITS}", "--service", write(tmp_path, "digits_service.py", SEED_STYLE), "--python-workers", "digits=2",
        "--max-batch-delay", "20",
    )

    def predict(sample):
        files = {"input0": (sample.name, sample.read_bytes())}
        response = requests.post(f"{server.url}/digits/predict", files=files, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()["prediction"][0]

    expected = {sample: predict(sample) for sample in SAMPLES}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(predict, SAMPLES * 8))
    for sample, answer in zip(SAMPLES * 8, answers):
        assert [entry["class"] for entry in answer] == [entry["class"] for entry in expected[sample]]
        for got, want in zip(answer, expected[sample]):
            assert abs(got["probability"] - want["probability"]) < 1e-6
    statistics = requests.get(f"{server.url}/statistics", timeout=10).json()["models"]["digits"]
    assert statistics["requests"] == len(SAMPLES) * 9 and statistics["python_workers"] == 2
    assert any(int(size) > 1 for size in statistics["batch_sizes"]), statistics
    assert server.stop() == 0, server.output


def test_service_failures_are_clear_errors_and_a_crashed_worker_is_replaced(start_server, tmp_path):
    server = start_server("--models", f"digits={DIGITS}", "--service", write(tmp_path, "failing.py", FAILING), "--python-timeout", "3")
    url = f"{server.url}/digits/predict"

    def post(first_byte):
        return requests.post(url, files={"input0": ("x.bin", first_byte + b"rest")}, timeout=60)

    bad = post(b"b")
    assert bad.status_code == 400 and bad.json()["message"] == "this is not a digit"
    broken = post(b"e")
    assert broken.status_code == 500
    assert "failing.py: _preprocess failed: ValueError: the service broke" in broken.json()["message"]
    # The log line may reach the test's reader of the server's output a moment after the answer.
    assert wait_for(lambda: "ValueError: the service broke" in server.output and "Traceback" in server.output), server.output
    assert "the Python service failed" in server.output
    crashed = post(b"x")
    assert crashed.status_code == 500 and "the Python worker process exited" in crashed.json()["message"]
    assert post(b"o").json() == {"prediction": "ok"}
    hung = post(b"h")
    assert hung.status_code == 500 and "did not answer within 3 seconds" in hung.json()["message"]
    fine = post(b"o")
    assert fine.status_code == 200 and fine.json() == {"prediction": "ok"}
    statistics = requests.get(f"{server.url}/statistics", timeout=10).json()["models"]["digits"]
    assert statistics["python_workers"] == 1 and statistics["python_worker_restarts"] == 2
    assert server.stop() == 0, server.output


@pytest.mark.parametrize(
    "source,fragments",
    [
        ("class Broken(\n", ["broken.py, line 1"]),
        ("import no_such_module\n", ["broken.py, line 1", "ModuleNotFoundError", "no_such_module"]),
        ("x = 1\n", ["broken.py defines no class that extends MXNetBaseService"]),
        (
            "from dms.mxnet_model_service import MXNetBaseService\nclass A(MXNetBaseService): pass\nclass B(MXNetBaseService): pass\n",
            ["broken.py defines several service classes (A, B)"],
        ),
    ],
)
def test_a_service_file_that_cannot_be_used_is_a_load_error(start_server, tmp_path, source, fragments):
    server = start_server("--models", f"digits={DIGITS}", "--service", write(tmp_path, "broken.py", source), wait=False)
    assert_failed_start(server, "digits", *fragments)


def test_a_missing_service_file_is_refused_before_starting(start_server, tmp_path):
    server = start_server("--models", f"digits={DIGITS}", "--service", tmp_path / "nowhere.py", wait=False)
    server.wait_for_exit(timeout=60)
    assert "nowhere.py: no such Python file" in server.output


def test_an_exported_archive_carries_its_service_and_runs_it_only_when_trusted(start_server, servers, tmp_path):
    import json
    import subprocess
    import zipfile

    from conftest import EXPORT_BINARY

    *_, built_in = servers
    service = write(tmp_path, "digits_service.py", SEED_STYLE)
    result = subprocess.run(
        [str(EXPORT_BINARY), "--model-name", "digits", "--model-path", EXAMPLES / "digits-mlp", "--service-file-path", service, "--output", tmp_path],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    archive = tmp_path / "digits.model"
    with zipfile.ZipFile(archive) as packed:
        assert "digits_service.py" in packed.namelist()
        assert json.loads(packed.read("MANIFEST.json"))["Model"]["Service"] == "digits_service.py"

    refused = start_server("--models", f"digits={archive}", wait=False)
    assert_failed_start(refused, "digits", "carries its own Python service, digits_service.py", "--trust-archive-code")

    trusted = start_server("--models", f"digits={archive}", "--trust-archive-code")
    files = {"input0": (SAMPLES[0].name, SAMPLES[0].read_bytes())}
    answer = requests.post(f"{trusted.url}/digits/predict", files=files, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.json() == requests.post(f"{built_in.url}/digits/predict", files=files, timeout=60).json()
    assert trusted.stop() == 0, trusted.output


def test_a_seed_era_archive_with_its_custom_service_loads_when_trusted(start_server, tmp_path):
    """The seed's manifest names the service file and the model's files, with no model format."""
    import json
    import zipfile

    folder = EXAMPLES / "digits-mlp"
    archive = tmp_path / "seed-digits.model"
    manifest = {
        "Engine": {"MXNet": "1.9.1"},
        "Model": {
            "Model Name": "digits", "Symbol": "digits-mlp-symbol.json", "Parameters": "digits-mlp-0000.params",
            "Signature": "signature.json", "Service": "custom_service.py",
        },
    }
    with zipfile.ZipFile(archive, "w") as packed:
        for file in folder.iterdir():
            packed.write(file, file.name)
        packed.writestr("custom_service.py", textwrap.dedent(RELEASED_STYLE))
        packed.writestr("MANIFEST.json", json.dumps(manifest))
    server = start_server("--models", f"digits={archive}", "--trust-archive-code")
    answer = requests.post(f"{server.url}/digits/predict", files={"input0": (SAMPLES[1].name, SAMPLES[1].read_bytes())}, timeout=60)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["prediction"][0]) == 5
    assert server.stop() == 0, server.output


# A service that runs the model itself: the server's engine is not used for its requests.
OWN_INFERENCE = """
import mxnet as mx
from dms.mxnet_model_service import MXNetBaseService


class CountingService(MXNetBaseService):
    def _preprocess(self, data):
        return [len(data[0])]

    def _inference(self, data):
        return [mx.nd.array([data[0] * 2])]

    def _postprocess(self, data):
        return {"doubled_length": int(data[0].asscalar())}
"""


def test_a_service_that_overrides_inference_answers_without_the_engine(start_server, tmp_path):
    server = start_server("--models", f"digits={DIGITS}", "--service", write(tmp_path, "own.py", OWN_INFERENCE))
    response = requests.post(f"{server.url}/digits/predict", files={"input0": ("x.bin", b"12345")}, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json() == {"prediction": {"doubled_length": 10}}
    statistics = requests.get(f"{server.url}/statistics", timeout=10).json()["models"]["digits"]
    assert statistics["engine_calls"] == 0
    # Such a model has no output tensors to give the Open Inference Protocol.
    tensors = requests.post(f"{server.url}/v2/models/digits/infer", json={"inputs": [{"name": "data", "shape": [1], "datatype": "BYTES", "data": ["12345"]}]}, timeout=60)
    assert tensors.status_code == 501 and "answers on POST /digits/predict only" in tensors.json()["error"]
    assert server.stop() == 0, server.output


# A service that needs a package the project's environment does not have (tabulate, from PyPI).
NEEDS_A_PACKAGE = """
import tabulate
from dms.mxnet_model_service import MXNetBaseService
import numpy as np


class TableService(MXNetBaseService):
    def _preprocess(self, data):
        return [np.zeros((1, 1, 8, 8))]

    def _postprocess(self, data):
        return tabulate.tabulate([["rows", int(data[0].shape[0])]], tablefmt="plain")
"""


def test_requirements_beside_a_service_are_installed_only_when_allowed(start_server, tmp_path):
    service = write(tmp_path, "table_service.py", NEEDS_A_PACKAGE)
    (tmp_path / "requirements.txt").write_text("tabulate==0.9.0\n")
    store = tmp_path / "store"

    refused = start_server("--models", f"digits={DIGITS}", "--service", service, store_dir=store, wait=False)
    assert_failed_start(refused, "table_service.py, line 2", "No module named 'tabulate'", "--install-service-requirements")

    allowed = start_server("--models", f"digits={DIGITS}", "--service", service, "--install-service-requirements", store_dir=store)
    response = requests.post(f"{allowed.url}/digits/predict", files={"input0": ("x.bin", b"any")}, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json() == {"prediction": "rows  1"}
    assert allowed.stop() == 0, allowed.output
    installed = [path for path in (store / "python-packages").iterdir() if not path.name.startswith(".")]
    assert len(installed) == 1 and (installed[0] / "tabulate").is_dir()

    again = start_server("--models", f"digits={DIGITS}", "--service", service, "--install-service-requirements", store_dir=store)
    assert "using the installed service requirements" in again.output
    assert again.stop() == 0, again.output


TOPICS = EXAMPLES / "text-topics"


@pytest.mark.parametrize(
    "sentence,topic",
    [
        ("The striker scored a late goal and the team won the match", "sport"),
        ("Heavy rain and cold wind in the forecast for today", "weather"),
        ("Bake the bread in a hot oven and serve it with soup", "food"),
        ("We take an umbrella because of the thunder storm", "weather"),
    ],
)
def test_a_text_model_with_a_tokenizing_service(start_server, sentence, topic):
    server = start_server("--models", f"topics={TOPICS}", "--service", TOPICS / "topic_service.py")
    response = requests.post(f"{server.url}/topics/predict", json={"input0": sentence}, timeout=60)
    assert response.status_code == 200, response.text
    prediction = response.json()["prediction"]
    assert prediction["topic"] == topic and prediction["probability"] > 0.5
    empty = requests.post(f"{server.url}/topics/predict", json={"input0": "  "}, timeout=60)
    assert empty.status_code == 400 and "send the sentence as a JSON string" in empty.json()["message"]
    assert server.stop() == 0, server.output


def test_the_same_service_serves_an_onnx_model(start_server, tmp_path):
    """MXNetBaseService is the base for every engine: the seed-style service on the ONNX twin of
    the digits model answers what the built-in service answers there."""
    onnx = EXAMPLES / "digits-mlp-onnx"
    python = start_server("--models", f"digits={onnx}", "--service", write(tmp_path, "digits_service.py", SEED_STYLE))
    built_in = start_server("--models", f"digits={onnx}")
    for sample in SAMPLES:
        files = {"input0": (sample.name, sample.read_bytes())}
        answer = requests.post(f"{python.url}/digits/predict", files=files, timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.json() == requests.post(f"{built_in.url}/digits/predict", files=files, timeout=60).json()
    for server in (python, built_in):
        assert server.stop() == 0, server.output


def test_when_no_worker_can_be_restarted_requests_are_refused_not_left_waiting(start_server, tmp_path):
    """The service file breaks after the start: the crashed worker's replacement cannot load."""
    service = write(tmp_path, "failing.py", FAILING)
    server = start_server("--models", f"digits={DIGITS}", "--service", service)
    url = f"{server.url}/digits/predict"
    service.write_text("this is not python\n")
    crashed = requests.post(url, files={"input0": ("x.bin", b"x")}, timeout=60)
    assert crashed.status_code == 500 and "the Python worker process exited" in crashed.json()["message"]
    refused = requests.post(url, files={"input0": ("x.bin", b"o")}, timeout=60)
    assert refused.status_code == 503
    assert "could not be restarted" in refused.json()["message"]
    assert wait_for(lambda: "a Python worker could not be restarted" in server.output), server.output
    assert server.stop() == 0, server.output


def test_requirements_that_pip_cannot_install_are_a_load_error(start_server, tmp_path):
    service = write(tmp_path, "table_service.py", NEEDS_A_PACKAGE)
    (tmp_path / "requirements.txt").write_text("dms-no-such-package-anywhere==0.0.1\n")
    store = tmp_path / "store"
    server = start_server("--models", f"digits={DIGITS}", "--service", service, "--install-service-requirements", store_dir=store, wait=False)
    assert_failed_start(server, "digits", "requirements.txt: pip could not install the service's requirements")
    # Neither an installed folder nor the half-finished one is left.
    assert list((store / "python-packages").iterdir()) == []


def test_a_python_service_without_a_python_environment_is_refused_before_starting(start_server, tmp_path):
    server = start_server(
        "--models", f"digits={DIGITS}", "--service", write(tmp_path, "s.py", SEED_STYLE),
        env={"DMS_SERVICE_PYTHON": str(tmp_path / "no-python")}, wait=False,
    )
    server.wait_for_exit(timeout=60)
    assert "no Python environment for services was found" in server.output
