"""The Open Inference Protocol (KServe v2) over REST, driven by NVIDIA's own client,
`tritonclient.http` (binary tensor data by default, JSON on request), and by plain HTTP for what a
client library hides (error bodies, trailing slashes, content types).

Models: Triton's `simple` example made as an ONNX file (two INT32 [-1, 16] inputs, their sum and
difference), and the MXNet digits classifier, fed a ready FP32 tensor or an encoded PNG (BYTES)."""

import json
import time

import numpy as np
import onnx
import pytest
import requests
import tritonclient.http as triton
from onnx import TensorProto, helper
from tritonclient.utils import InferenceServerException

from conftest import EXAMPLES

SAMPLES = json.loads((EXAMPLES / "samples" / "expected.json").read_text())["samples"]
SEVEN = next(sample for sample in SAMPLES if sample["file"] == "digit-7-7.png")


def simple_model(path):
    """Triton's `simple` model: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1."""
    inputs = [helper.make_tensor_value_info(name, TensorProto.INT32, ["batch", 16]) for name in ("INPUT0", "INPUT1")]
    outputs = [helper.make_tensor_value_info(name, TensorProto.INT32, ["batch", 16]) for name in ("OUTPUT0", "OUTPUT1")]
    graph = helper.make_graph(
        [helper.make_node("Add", ["INPUT0", "INPUT1"], ["OUTPUT0"]), helper.make_node("Sub", ["INPUT0", "INPUT1"], ["OUTPUT1"])],
        "simple", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


@pytest.fixture(scope="module")
def server(start_server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("open-inference")
    running = start_server("--models", f"simple={simple_model(folder / 'simple.onnx')}", f"digits={EXAMPLES / 'digits-mlp.model'}")
    yield running
    assert running.stop() == 0, running.output


@pytest.fixture(scope="module")
def client(server):
    return triton.InferenceServerClient(url=server.url.removeprefix("http://"))


def pair(a, b, binary=True):
    """The `simple` model's two inputs holding the arrays a and b (their datatype from numpy's)."""
    inputs = []
    for name, array in (("INPUT0", a), ("INPUT1", b)):
        tensor = triton.InferInput(name, list(array.shape), triton.np_to_triton_dtype(array.dtype))
        tensor.set_data_from_numpy(array, binary_data=binary)
        inputs.append(tensor)
    return inputs


def simple_inputs(binary):
    a = np.arange(16, dtype=np.int32).reshape(1, 16)
    b = np.full((1, 16), 3, dtype=np.int32)
    return a, b, pair(a, b, binary)


def test_health_and_metadata(client):
    assert client.is_server_live()
    assert client.is_server_ready()
    metadata = client.get_server_metadata()
    assert metadata["name"] == "deep-model-server"
    assert metadata["extensions"] == ["binary_tensor_data", "model_configuration", "model_repository", "statistics"]
    assert client.is_model_ready("simple")
    assert client.is_model_ready("simple", model_version="1")
    simple = client.get_model_metadata("simple")
    assert simple == {
        "name": "simple", "versions": ["1"], "platform": "onnxruntime_onnx",
        "inputs": [{"name": "INPUT0", "datatype": "INT32", "shape": [-1, 16]}, {"name": "INPUT1", "datatype": "INT32", "shape": [-1, 16]}],
        "outputs": [{"name": "OUTPUT0", "datatype": "INT32", "shape": [-1, 16]}, {"name": "OUTPUT1", "datatype": "INT32", "shape": [-1, 16]}],
    }
    digits = client.get_model_metadata("digits", model_version="1")
    assert digits["platform"] == "mxnet"
    assert [(tensor["datatype"], tensor["shape"]) for tensor in digits["inputs"]] == [("FP32", [-1, 1, 8, 8])]  # signature.json's 0: any size


def test_model_configuration(client):
    """Triton's shape of a model configuration: dims without the batch dimension of a model
    that batches (max_batch_size: the server's default of 8 rows per engine call)."""
    tensor = lambda name: {"name": name, "data_type": "TYPE_INT32", "dims": [16]}  # noqa: E731
    assert client.get_model_config("simple") == {
        "name": "simple", "platform": "onnxruntime_onnx", "max_batch_size": 8,
        "input": [tensor("INPUT0"), tensor("INPUT1")], "output": [tensor("OUTPUT0"), tensor("OUTPUT1")],
    }
    digits = client.get_model_config("digits", model_version="1")
    assert (digits["max_batch_size"], digits["input"]) == (8, [{"name": "data", "data_type": "TYPE_FP32", "dims": [1, 8, 8]}])


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_simple_sum_and_difference(client, binary):
    a, b, inputs = simple_inputs(binary)
    outputs = [triton.InferRequestedOutput("OUTPUT0", binary_data=binary), triton.InferRequestedOutput("OUTPUT1", binary_data=binary)]
    result = client.infer("simple", inputs, outputs=outputs, request_id="req-7")
    assert result.get_response()["id"] == "req-7"
    assert result.get_response()["model_name"] == "simple"
    assert np.array_equal(result.as_numpy("OUTPUT0"), a + b)
    assert np.array_equal(result.as_numpy("OUTPUT1"), a - b)
    assert result.as_numpy("OUTPUT0").dtype == np.int32


def test_all_outputs_by_default_and_output_selection(client):
    a, b, inputs = simple_inputs(True)
    everything = client.infer("simple", inputs)  # tritonclient then asks for every output as binary data
    assert [output["name"] for output in everything.get_response()["outputs"]] == ["OUTPUT0", "OUTPUT1"]
    only = client.infer("simple", inputs, outputs=[triton.InferRequestedOutput("OUTPUT1")])
    assert [output["name"] for output in only.get_response()["outputs"]] == ["OUTPUT1"]
    assert np.array_equal(only.as_numpy("OUTPUT1"), a - b)
    assert only.as_numpy("OUTPUT0") is None


@pytest.mark.parametrize("algorithm", ["gzip", "deflate"])
def test_compressed_requests(client, algorithm):
    """tritonclient's request compression (Content-Encoding); the answer comes uncompressed even
    when asked for compressed (Accept-Encoding), which the client reads as it is."""
    a, b, inputs = simple_inputs(True)
    result = client.infer("simple", inputs, request_compression_algorithm=algorithm, response_compression_algorithm=algorithm)
    assert np.array_equal(result.as_numpy("OUTPUT0"), a + b)
    assert np.array_equal(result.as_numpy("OUTPUT1"), a - b)


def test_a_batch_of_rows(client):
    a = np.arange(64, dtype=np.int32).reshape(4, 16)
    b = np.ones((4, 16), dtype=np.int32)
    result = client.infer("simple", pair(a, b))
    assert np.array_equal(result.as_numpy("OUTPUT0"), a + b)


def digits_probabilities(result):
    return result.as_numpy(result.get_response()["outputs"][0]["name"]).reshape(-1)


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_image_model_with_a_ready_tensor(client, binary):
    """The seed's preprocessing done by the client: the 64 resized pixels as FP32 [1, 1, 8, 8]."""
    pixels = np.asarray(SEVEN["input"], dtype=np.float32).reshape(1, 1, 8, 8)
    tensor = triton.InferInput(client.get_model_metadata("digits")["inputs"][0]["name"], [1, 1, 8, 8], "FP32")
    tensor.set_data_from_numpy(pixels, binary_data=binary)
    probabilities = digits_probabilities(client.infer("digits", [tensor]))
    assert np.allclose(probabilities, SEVEN["predictions"]["digits-mlp"]["probabilities"], atol=1e-6)


def test_image_model_with_an_encoded_image(client):
    """A BYTES input holding the PNG runs the same decode and resize as /predict."""
    png = (EXAMPLES / "samples" / "digit-7-7.png").read_bytes()
    tensor = triton.InferInput(client.get_model_metadata("digits")["inputs"][0]["name"], [1], "BYTES")
    tensor.set_data_from_numpy(np.array([png], dtype=np.object_))
    probabilities = digits_probabilities(client.infer("digits", [tensor]))
    assert np.allclose(probabilities, SEVEN["predictions"]["digits-mlp"]["probabilities"], atol=1e-6)
    assert int(np.argmax(probabilities)) == 7


def test_errors_reach_the_client_with_their_status(client):
    _, _, inputs = simple_inputs(True)
    with pytest.raises(InferenceServerException) as unknown:
        client.infer("nope", inputs)
    assert unknown.value.status() == "404" and "nope" in unknown.value.message()

    short = np.zeros((1, 8), dtype=np.int32)
    with pytest.raises(InferenceServerException) as shape:
        client.infer("simple", pair(short, short))
    assert shape.value.status() == "400" and "shape [1, 8]" in shape.value.message()

    floats = np.zeros((1, 16), dtype=np.float32)
    with pytest.raises(InferenceServerException) as datatype:
        client.infer("simple", pair(floats, floats))
    assert datatype.value.status() == "400" and "FP32" in datatype.value.message() and "INT32" in datatype.value.message()

    with pytest.raises(InferenceServerException) as version:
        client.infer("simple", inputs, model_version="2")
    assert version.value.status() == "404" and "version" in version.value.message()

    with pytest.raises(InferenceServerException) as missing:
        client.infer("simple", inputs[:1])
    assert missing.value.status() == "400" and "missing input 'INPUT1'" in missing.value.message()


def test_plain_http_errors_and_paths(server):
    body = {"inputs": [{"name": "INPUT0", "shape": [1, 16], "datatype": "INT32", "data": list(range(16))}]}
    response = requests.post(f"{server.url}/v2/models/simple/infer", json=body, timeout=30)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"error"} and "INPUT1" in response.json()["error"]

    malformed = requests.post(f"{server.url}/v2/models/simple/infer", data=b"{not json", timeout=30)
    assert malformed.status_code == 400 and "malformed" in malformed.json()["error"]

    assert requests.get(f"{server.url}/v2/models/nope", timeout=10).status_code == 404
    not_ready = requests.get(f"{server.url}/v2/models/nope/ready", timeout=10)
    assert not_ready.status_code == 404 and "nope" in not_ready.json()["error"]
    for path in ("/v2/", "/v2/health/ready/", "/v2/models/simple/", "/v2/models/simple/versions/1/ready/"):
        assert requests.get(f"{server.url}{path}", timeout=10).status_code == 200, path
    wrong_method = requests.get(f"{server.url}/v2/models/simple/infer", timeout=10)
    assert wrong_method.status_code == 405 and set(wrong_method.json()) == {"error"}
    unknown_path = requests.get(f"{server.url}/v2/models/simple/nonsense", timeout=10)
    assert unknown_path.status_code == 404 and set(unknown_path.json()) == {"error"}

    both = {"inputs": [
        {"name": "INPUT0", "shape": [1, 16], "datatype": "INT32", "data": [list(range(16))]},
        {"name": "INPUT1", "shape": [1, 16], "datatype": "INT32", "data": [1] * 16},
    ]}
    answer = requests.post(f"{server.url}/v2/models/simple/versions/1/infer", json=both, timeout=30)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.json()["outputs"][0] == {"name": "OUTPUT0", "datatype": "INT32", "shape": [1, 16], "data": [i + 1 for i in range(16)]}


def test_more_rows_than_max_batch_size_are_refused(client):
    """As Triton does: the engines keep memory per batch size they have run."""
    nine = np.zeros((9, 16), dtype=np.int32)
    with pytest.raises(InferenceServerException) as refused:
        client.infer("simple", pair(nine, nine))
    assert refused.value.status() == "400" and "max_batch_size 8" in refused.value.message()


def test_inputs_are_all_tensors_or_all_one_encoded_item(server):
    """A tensor beside a BYTES input, or several BYTES items in one input, are refused: the
    service prepares one encoded item per input, the engine takes tensors."""
    tensor = {"name": "INPUT0", "shape": [1, 16], "datatype": "INT32", "data": list(range(16))}
    text = {"name": "INPUT1", "shape": [1], "datatype": "BYTES", "data": ["x"]}
    mixed = requests.post(f"{server.url}/v2/models/simple/infer", json={"inputs": [tensor, text]}, timeout=30)
    assert mixed.status_code == 400 and "is a tensor while others are BYTES" in mixed.json()["error"]
    two_images = {"name": "data", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]}
    several = requests.post(f"{server.url}/v2/models/digits/infer", json={"inputs": [two_images]}, timeout=30)
    assert several.status_code == 400 and "holds 2 items" in several.json()["error"]


def test_unsupported_extensions_are_refused_not_ignored(client):
    _, _, inputs = simple_inputs(True)
    with pytest.raises(InferenceServerException) as classification:
        client.infer("simple", inputs, outputs=[triton.InferRequestedOutput("OUTPUT0", class_count=3)])
    assert classification.value.status() == "400" and "classification" in classification.value.message()
    with pytest.raises(InferenceServerException) as unknown:
        client.infer("simple", inputs, outputs=[triton.InferRequestedOutput("OUTPUT9")])
    assert unknown.value.status() == "400" and "unknown output 'OUTPUT9'" in unknown.value.message()


def test_statistics_count_known_traffic(client):
    """The statistics extension in Triton's shape: three single-row requests, one at a time, are
    three engine calls of batch size 1, each with its queue and engine time."""
    def simple_stats():
        (entry,) = client.get_inference_statistics("simple")["model_stats"]
        return entry

    before = simple_stats()
    _, _, inputs = simple_inputs(True)
    started_ms = time.time() * 1000
    for _ in range(3):
        client.infer("simple", inputs)
    after = simple_stats()

    assert (after["name"], after["version"]) == ("simple", "1")
    assert after["execution_count"] - before["execution_count"] == 3
    assert after["inference_count"] - before["inference_count"] == 3
    for step in ("success", "queue", "compute_input", "compute_infer", "compute_output"):
        assert after["inference_stats"][step]["count"] - before["inference_stats"][step]["count"] == 3, step
    assert after["inference_stats"]["compute_infer"]["ns"] > before["inference_stats"]["compute_infer"]["ns"]
    assert after["inference_stats"]["fail"] == before["inference_stats"]["fail"]
    size_one = lambda entry: next(b for b in entry["batch_stats"] if b["batch_size"] == 1)["compute_infer"]["count"]  # noqa: E731
    assert size_one(after) - (size_one(before) if before["batch_stats"] else 0) == 3
    assert started_ms - 1000 <= after["last_inference"] <= time.time() * 1000 + 1000
    everything = client.get_inference_statistics()["model_stats"]
    assert sorted(entry["name"] for entry in everything) == ["digits", "simple"]


def test_inference_counts_in_the_models_metrics(server, client):
    def successes():
        text = requests.get(f"{server.url}/metrics", timeout=10).text
        lines = [line for line in text.splitlines() if line.startswith("dms_requests_total{") and 'model="simple"' in line and 'outcome="success"' in line]
        return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0

    before = successes()
    _, _, inputs = simple_inputs(True)
    for _ in range(3):
        client.infer("simple", inputs)
    assert successes() == before + 3


def test_repository_index_and_control_that_is_off(server, client):
    """Without --allow-model-control the index answers and load / unload are refused (403)."""
    index = client.get_model_repository_index()
    assert [(m["name"], m["version"], m["state"], m["reason"]) for m in index] == [("simple", "1", "READY", ""), ("digits", "1", "READY", "")]
    assert requests.post(f"{server.url}/v2/repository/index", json={"ready": True}, timeout=10).json() == index
    for call in (client.unload_model, client.load_model):
        with pytest.raises(InferenceServerException) as refused:
            call("simple")
        assert refused.value.status() == "403" and "--allow-model-control" in refused.value.message()
    assert client.is_model_ready("simple")
    wrong_method = requests.get(f"{server.url}/v2/repository/index", timeout=10)
    assert wrong_method.status_code == 405 and set(wrong_method.json()) == {"error"}
    malformed = requests.post(f"{server.url}/v2/repository/index", data=b"{not json", timeout=10)
    assert malformed.status_code == 400 and "must be a JSON object" in malformed.json()["error"]
    not_a_flag = requests.post(f"{server.url}/v2/repository/index", json={"ready": 1}, timeout=10)
    assert not_a_flag.status_code == 400 and "'ready' must be true or false" in not_a_flag.json()["error"]


def test_repository_unload_and_load_again(start_server, tmp_path):
    """With --allow-model-control: an unloaded model leaves service but stays in the index, and
    loads again by name from where it was registered, answering as before."""
    running = start_server("--models", f"simple={simple_model(tmp_path / 'simple.onnx')}", f"digits={EXAMPLES / 'digits-mlp.model'}", "--allow-model-control")
    client = triton.InferenceServerClient(url=running.url.removeprefix("http://"))
    a, b, inputs = simple_inputs(True)
    before = client.infer("simple", inputs).as_numpy("OUTPUT0")

    client.unload_model("simple")
    index = {m["name"]: (m["state"], m["reason"]) for m in client.get_model_repository_index()}
    assert index == {"simple": ("UNAVAILABLE", "unloaded"), "digits": ("READY", "")}
    assert [m["name"] for m in requests.post(f"{running.url}/v2/repository/index", json={"ready": True}, timeout=10).json()] == ["digits"]
    assert not client.is_model_ready("simple")
    with pytest.raises(InferenceServerException) as gone:
        client.infer("simple", inputs)
    assert gone.value.status() == "404"
    client.unload_model("simple")  # again: nothing to do

    client.load_model("simple")
    client.load_model("simple")  # loaded already: nothing to do
    assert client.is_model_ready("simple")
    assert np.array_equal(client.infer("simple", inputs).as_numpy("OUTPUT0"), before)
    assert {m["name"]: m["state"] for m in client.get_model_repository_index()} == {"digits": "READY", "simple": "READY"}

    with pytest.raises(InferenceServerException) as unknown:
        client.load_model("nope")
    assert unknown.value.status() == "404" and "nope" in unknown.value.message()
    with pytest.raises(InferenceServerException) as configured:
        client.load_model("simple", config=json.dumps({"max_batch_size": 2}))
    assert configured.value.status() == "400" and "'config' is not supported" in configured.value.message()
    assert running.stop() == 0, running.output


def test_repository_load_tries_a_failed_model_again(start_server, tmp_path):
    """A model that failed to load (--allow-model-failures) is UNAVAILABLE with its reason; a
    load while it is still broken answers the load error and keeps it listed; once its file is
    mended, a load serves it."""
    broken = tmp_path / "mended.onnx"
    broken.write_bytes(b"not an onnx model")
    running = start_server(
        "--models", f"digits={EXAMPLES / 'digits-mlp.model'}", f"mended={broken}", "--allow-model-failures", "--allow-model-control")
    client = triton.InferenceServerClient(url=running.url.removeprefix("http://"))
    (entry,) = [m for m in client.get_model_repository_index() if m["name"] == "mended"]
    assert entry["state"] == "UNAVAILABLE" and entry["reason"], entry

    with pytest.raises(InferenceServerException) as still_broken:
        client.load_model("mended")
    assert still_broken.value.status() in ("400", "500"), still_broken.value
    assert [m["name"] for m in client.get_model_repository_index() if m["state"] == "UNAVAILABLE"] == ["mended"]

    simple_model(broken)
    client.load_model("mended")
    assert client.is_model_ready("mended")
    _, _, inputs = simple_inputs(True)
    assert client.infer("mended", inputs).as_numpy("OUTPUT1").shape == (1, 16)
    assert running.stop() == 0, running.output
