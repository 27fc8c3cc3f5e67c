"""tritonclient.grpc against the server's gRPC listener, in .runtime/clients-venv (its protobuf
cannot share a venv with the main one's). tests/e2e/test_open_inference_grpc.py runs each case in
a process of its own:

    python triton_grpc_cases.py ADDRESS CASE [ARGUMENT...]

A case passes when the process exits 0; a failed assertion prints its traceback and exits 1.
`infer-image MODEL INPUT PATH [TIMEOUT_S]` is not a check but a client for the scheduling tests: it
connects, prints `ready`, waits for a line on standard input, sends one image as a BYTES input
(with that client_timeout) and prints the answer, or the error's status and message, as JSON.

Models (the server the test starts): `simple` (Triton's example: two INT32 [-1, 16] inputs, sum
and difference), `digits` (the MXNet digits classifier), `types` (an ONNX Identity per datatype).
"""

import io
import json
import pathlib
import sys

import numpy as np
import tritonclient.grpc as triton
import tritonclient.grpc.service_pb2 as service
from tritonclient.utils import InferenceServerException

from datatype_samples import ARRAYS

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "examples"
SAMPLES = json.loads((EXAMPLES / "samples" / "expected.json").read_text())["samples"]
SEVEN = next(sample for sample in SAMPLES if sample["file"] == "digit-7-7.png")
CASES = {}


def case(function):
    CASES[function.__name__.replace("_", "-")] = function
    return function


def pair(a, b):
    inputs = []
    for name, array in (("INPUT0", a), ("INPUT1", b)):
        tensor = triton.InferInput(name, list(array.shape), triton.np_to_triton_dtype(array.dtype))
        tensor.set_data_from_numpy(array)
        inputs.append(tensor)
    return inputs


def simple_arrays(rows=1):
    return np.arange(16 * rows, dtype=np.int32).reshape(rows, 16), np.full((rows, 16), 3, dtype=np.int32)


def refused(call, status, fragment):
    try:
        call()
    except InferenceServerException as error:
        assert error.status() == f"StatusCode.{status}", (error.status(), error.message())
        assert fragment in error.message(), error.message()
        return error
    raise AssertionError(f"expected {status} with '{fragment}'")


@case
def health_and_metadata(client):
    assert client.is_server_live() and client.is_server_ready()
    metadata = client.get_server_metadata(as_json=True)
    assert metadata["name"] == "deep-model-server", metadata
    assert metadata["extensions"] == ["binary_tensor_data", "model_configuration", "model_repository", "statistics"], metadata
    assert client.is_model_ready("simple") and client.is_model_ready("simple", model_version="1")
    assert not client.is_model_ready("nope") and not client.is_model_ready("simple", model_version="2")
    simple = client.get_model_metadata("simple", as_json=True)
    tensor = lambda name: {"name": name, "datatype": "INT32", "shape": ["-1", "16"]}  # noqa: E731 (int64 is a string in proto JSON)
    assert simple == {
        "name": "simple", "versions": ["1"], "platform": "onnxruntime_onnx",
        "inputs": [tensor("INPUT0"), tensor("INPUT1")], "outputs": [tensor("OUTPUT0"), tensor("OUTPUT1")],
    }, simple
    digits = client.get_model_metadata("digits", model_version="1")
    assert digits.platform == "mxnet" and [(t.datatype, list(t.shape)) for t in digits.inputs] == [("FP32", [-1, 1, 8, 8])]
    refused(lambda: client.get_model_metadata("simple", model_version="2"), "NOT_FOUND", "version")


@case
def model_configuration(client):
    config = client.get_model_config("simple", as_json=True)["config"]
    tensor = lambda name: {"name": name, "data_type": "TYPE_INT32", "dims": ["16"]}  # noqa: E731
    assert config == {
        "name": "simple", "platform": "onnxruntime_onnx", "max_batch_size": 8,
        "input": [tensor("INPUT0"), tensor("INPUT1")], "output": [tensor("OUTPUT0"), tensor("OUTPUT1")],
    }, config
    digits = client.get_model_config("digits").config
    assert (digits.max_batch_size, digits.input[0].data_type, list(digits.input[0].dims)) == (8, 11, [1, 8, 8])  # 11: TYPE_FP32


@case
def simple_sum_and_difference(client):
    a, b = simple_arrays()
    result = client.infer("simple", pair(a, b), request_id="req-7")
    response = result.get_response()
    assert (response.id, response.model_name, response.model_version) == ("req-7", "simple", "1")
    assert np.array_equal(result.as_numpy("OUTPUT0"), a + b) and np.array_equal(result.as_numpy("OUTPUT1"), a - b)
    assert result.as_numpy("OUTPUT0").dtype == np.int32


@case
def output_selection_and_rows(client):
    a, b = simple_arrays()
    everything = client.infer("simple", pair(a, b))
    assert [output.name for output in everything.get_response().outputs] == ["OUTPUT0", "OUTPUT1"]
    only = client.infer("simple", pair(a, b), outputs=[triton.InferRequestedOutput("OUTPUT1")])
    assert [output.name for output in only.get_response().outputs] == ["OUTPUT1"]
    assert np.array_equal(only.as_numpy("OUTPUT1"), a - b) and only.as_numpy("OUTPUT0") is None
    a4, b4 = simple_arrays(rows=4)
    assert np.array_equal(client.infer("simple", pair(a4, b4)).as_numpy("OUTPUT0"), a4 + b4)


@case
def typed_contents(client):
    """tritonclient always sends raw_input_contents; the protocol's typed fields are sent here
    through the stub it wraps."""
    a, b = simple_arrays()
    request = service.ModelInferRequest(model_name="simple", id="typed")
    for name, array in (("INPUT0", a), ("INPUT1", b)):
        tensor = request.inputs.add(name=name, datatype="INT32", shape=[1, 16])
        tensor.contents.int_contents.extend(array.reshape(-1).tolist())
    response = client._client_stub.ModelInfer(request)
    assert response.id == "typed" and [output.name for output in response.outputs] == ["OUTPUT0", "OUTPUT1"]
    assert np.array_equal(np.frombuffer(response.raw_output_contents[0], dtype="<i4").reshape(1, 16), a + b)
    bad = service.ModelInferRequest(model_name="simple")
    tensor = bad.inputs.add(name="INPUT0", datatype="INT32", shape=[1, 16])
    tensor.contents.int_contents.extend(range(15))
    try:
        client._client_stub.ModelInfer(bad)
    except Exception as error:  # grpc.RpcError
        assert "INVALID_ARGUMENT" in str(error.code()) and "int_contents holds 15 values" in error.details(), error
    else:
        raise AssertionError("15 values for 16 were accepted")


@case
def several_datatypes(client):
    """Each datatype the engines take, through an Identity model: the answer is the input."""
    inputs = []
    for datatype, array in ARRAYS.items():
        tensor = triton.InferInput(f"in_{datatype}", list(array.shape), datatype)
        tensor.set_data_from_numpy(array)
        inputs.append(tensor)
    result = client.infer("types", inputs)
    for datatype, array in ARRAYS.items():
        answer = result.as_numpy(f"out_{datatype}")
        assert answer.dtype == array.dtype and np.array_equal(answer, array), (datatype, answer, array)


@case
def image_model_with_a_tensor_and_an_encoded_image(client):
    """The same answers as the seed API's /predict (examples/samples/expected.json)."""
    expected = SEVEN["predictions"]["digits-mlp"]["probabilities"]
    name = client.get_model_metadata("digits").inputs[0].name
    pixels = triton.InferInput(name, [1, 1, 8, 8], "FP32")
    pixels.set_data_from_numpy(np.asarray(SEVEN["input"], dtype=np.float32).reshape(1, 1, 8, 8))
    by_tensor = client.infer("digits", [pixels]).as_numpy(client.get_model_metadata("digits").outputs[0].name).reshape(-1)
    assert np.allclose(by_tensor, expected, atol=1e-6), by_tensor
    png = triton.InferInput(name, [1], "BYTES")
    png.set_data_from_numpy(np.array([(EXAMPLES / "samples" / "digit-7-7.png").read_bytes()], dtype=np.object_))
    result = client.infer("digits", [png])
    by_image = result.as_numpy(result.get_response().outputs[0].name).reshape(-1)
    assert np.allclose(by_image, expected, atol=1e-6) and int(np.argmax(by_image)) == 7, by_image


@case
def messages_up_to_the_request_limit(client):
    """An image over gRPC's usual 4 MiB message limit is taken; one over the server's request
    limit (--max-request-size, 10 MiB by default) is refused as soon as its length prefix
    arrives: RESOURCE_EXHAUSTED, or CANCELLED when the transport's stream reset reaches the
    client (still uploading) before the status does."""
    from PIL import Image

    noise = np.random.default_rng(7).integers(0, 256, size=(1300, 1300, 3), dtype=np.uint8)
    encoded = io.BytesIO()
    Image.fromarray(noise).save(encoded, format="PNG", compress_level=0)
    big = encoded.getvalue()
    assert 4 << 20 < len(big) < 10 << 20, len(big)
    name = client.get_model_metadata("digits").inputs[0].name
    image = triton.InferInput(name, [1], "BYTES")
    image.set_data_from_numpy(np.array([big], dtype=np.object_))
    result = client.infer("digits", [image])
    assert result.as_numpy(result.get_response().outputs[0].name).size == 10
    huge = triton.InferInput(name, [1], "BYTES")
    huge.set_data_from_numpy(np.array([b"\0" * (11 << 20)], dtype=np.object_))
    try:
        client.infer("digits", [huge])
    except InferenceServerException as error:
        assert error.status() in ("StatusCode.RESOURCE_EXHAUSTED", "StatusCode.CANCELLED"), (error.status(), error.message())
    else:
        raise AssertionError("a message over the request limit was taken")
    assert client.infer("digits", [image]).as_numpy(result.get_response().outputs[0].name).size == 10


@case
def compressed_messages_are_refused(client):
    """Compressed requests (compression_algorithm) are refused as gRPC refuses an encoding it does
    not take, UNIMPLEMENTED, and the server goes on: grpc-swift-nio-transport 2.9.2 would leak its
    inflate state on every compressed call (docs/open-inference.md)."""
    a, b = simple_arrays()
    for algorithm in ("gzip", "deflate"):
        refused(lambda: client.infer("simple", pair(a, b), compression_algorithm=algorithm), "UNIMPLEMENTED", algorithm)
    assert np.array_equal(client.infer("simple", pair(a, b)).as_numpy("OUTPUT0"), a + b)


@case
def errors_reach_the_client_with_their_status(client):
    a, b = simple_arrays()
    refused(lambda: client.infer("nope", pair(a, b)), "NOT_FOUND", "nope")
    short = np.zeros((1, 8), dtype=np.int32)
    refused(lambda: client.infer("simple", pair(short, short)), "INVALID_ARGUMENT", "shape [1, 8]")
    floats = np.zeros((1, 16), dtype=np.float32)
    error = refused(lambda: client.infer("simple", pair(floats, floats)), "INVALID_ARGUMENT", "FP32")
    assert "INT32" in error.message()
    refused(lambda: client.infer("simple", pair(a, b), model_version="2"), "NOT_FOUND", "version")
    refused(lambda: client.infer("simple", pair(a, b)[:1]), "INVALID_ARGUMENT", "missing input 'INPUT1'")
    refused(lambda: client.infer("simple", pair(a, b), outputs=[triton.InferRequestedOutput("OUTPUT9")]), "INVALID_ARGUMENT", "unknown output 'OUTPUT9'")
    refused(lambda: client.infer("simple", pair(a, b), outputs=[triton.InferRequestedOutput("OUTPUT0", class_count=3)]), "INVALID_ARGUMENT", "classification")
    nine = np.zeros((9, 16), dtype=np.int32)
    refused(lambda: client.infer("simple", pair(nine, nine)), "INVALID_ARGUMENT", "max_batch_size 8")
    refused(lambda: client.get_system_shared_memory_status(), "UNIMPLEMENTED", "")
    refused(lambda: client.get_log_settings(), "UNIMPLEMENTED", "")
    assert np.array_equal(client.infer("simple", pair(a, b)).as_numpy("OUTPUT0"), a + b)  # still serving


@case
def statistics_count_known_traffic(client):
    def simple_stats():
        (entry,) = client.get_inference_statistics("simple", as_json=True)["model_stats"]
        return entry

    count = lambda entry, step: int(entry["inference_stats"][step].get("count", 0))  # noqa: E731 (proto JSON leaves out zeros)
    before = simple_stats()
    a, b = simple_arrays()
    for _ in range(3):
        client.infer("simple", pair(a, b))
    after = simple_stats()
    assert (after["name"], after["version"]) == ("simple", "1")
    assert int(after["execution_count"]) - int(before.get("execution_count", 0)) == 3
    assert int(after["inference_count"]) - int(before.get("inference_count", 0)) == 3
    for step in ("success", "queue", "compute_input", "compute_infer", "compute_output"):
        assert count(after, step) - count(before, step) == 3, step
    names = sorted(entry.name for entry in client.get_inference_statistics().model_stats)
    assert names == ["digits", "simple", "types"], names


@case
def bearer_token(client):
    """The server runs with --inference-token s3cret: probes pass without it, the rest need it."""
    assert client.is_server_live() and client.is_server_ready()
    refused(lambda: client.get_model_metadata("simple"), "UNAUTHENTICATED", "authorization: Bearer")
    refused(lambda: client.get_model_metadata("simple", headers={"authorization": "Bearer wrong"}), "PERMISSION_DENIED", "not valid")
    a, b = simple_arrays()
    result = client.infer("simple", pair(a, b), headers={"authorization": "Bearer s3cret"})
    assert np.array_equal(result.as_numpy("OUTPUT0"), a + b)


@case
def repository_control_off(client):
    names = [(model.name, model.version, model.state) for model in client.get_model_repository_index().models]
    assert names == [("simple", "1", "READY"), ("digits", "1", "READY"), ("types", "1", "READY")], names
    refused(lambda: client.unload_model("simple"), "PERMISSION_DENIED", "--allow-model-control")
    refused(lambda: client.load_model("simple"), "PERMISSION_DENIED", "--allow-model-control")
    assert client.is_model_ready("simple")


@case
def repository_unload_and_load(client):
    """The server runs `simple` with --allow-model-control."""
    a, b = simple_arrays()
    client.unload_model("simple")
    (entry,) = client.get_model_repository_index().models
    assert (entry.name, entry.state, entry.reason) == ("simple", "UNAVAILABLE", "unloaded")
    refused(lambda: client.infer("simple", pair(a, b)), "NOT_FOUND", "simple")
    client.load_model("simple")
    assert client.is_model_ready("simple")
    assert np.array_equal(client.infer("simple", pair(a, b)).as_numpy("OUTPUT0"), a + b)
    refused(lambda: client.load_model("nope"), "NOT_FOUND", "nope")
    refused(lambda: client.load_model("simple", config='{"max_batch_size": 2}'), "INVALID_ARGUMENT", "'config' is not supported")


@case
def calls_across_idle_closes(client):
    """Against a server with --idle-timeout 1: the connection it closes between calls is opened
    again by the next call, which succeeds."""
    import time

    a, b = simple_arrays()
    for _ in range(3):
        assert np.array_equal(client.infer("simple", pair(a, b)).as_numpy("OUTPUT0"), a + b)
        time.sleep(2)


def infer_image(client, model, input_name, path, timeout=None):
    print("ready", flush=True)
    sys.stdin.readline()
    image = triton.InferInput(input_name, [1], "BYTES")
    image.set_data_from_numpy(np.array([pathlib.Path(path).read_bytes()], dtype=np.object_))
    try:
        result = client.infer(model, [image], client_timeout=float(timeout) if timeout else None)
    except InferenceServerException as error:
        print(json.dumps({"error": error.status(), "message": error.message()}), flush=True)
        return
    print(json.dumps({output.name: result.as_numpy(output.name).tolist() for output in result.get_response().outputs}), flush=True)


if __name__ == "__main__":
    address, name, *arguments = sys.argv[1:]
    with triton.InferenceServerClient(address) as grpc_client:
        if name == "infer-image":
            infer_image(grpc_client, *arguments)
        else:
            CASES[name](grpc_client)
    print(f"{name}: passed")
