"""The Open Inference Protocol over gRPC (`inference.GRPCInferenceService` on --grpc-port), driven
by NVIDIA's `tritonclient.grpc` and by KServe's Python SDK (both its gRPC and its v2 REST
client). The clients run in .runtime/clients-venv, one process per case (tests/e2e/clients/,
tests/e2e/protocol_clients.py); this file starts the servers and runs the cases.

Models: Triton's `simple` example (tests/e2e/test_open_inference.py makes it), the MXNet digits
classifier, and `types`, an ONNX Identity per datatype the engines take."""

import numpy as np
import onnx
import pytest
import tritonclient.http as triton_http
from onnx import TensorProto, helper

from clients.datatype_samples import ARRAYS
from conftest import EXAMPLES
from protocol_clients import run_case
from test_open_inference import simple_model

DATATYPES = {
    "FP16": TensorProto.FLOAT16, "FP32": TensorProto.FLOAT, "FP64": TensorProto.DOUBLE, "INT8": TensorProto.INT8,
    "INT16": TensorProto.INT16, "INT32": TensorProto.INT32, "INT64": TensorProto.INT64, "UINT8": TensorProto.UINT8,
    "BOOL": TensorProto.BOOL,
}


def types_model(path):
    """out_T = Identity(in_T) for each datatype T, each [batch, 2]."""
    inputs = [helper.make_tensor_value_info(f"in_{name}", kind, ["batch", 2]) for name, kind in DATATYPES.items()]
    outputs = [helper.make_tensor_value_info(f"out_{name}", kind, ["batch", 2]) for name, kind in DATATYPES.items()]
    nodes = [helper.make_node("Identity", [f"in_{name}"], [f"out_{name}"]) for name in DATATYPES]
    model = helper.make_model(helper.make_graph(nodes, "types", inputs, outputs), opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grpc-models")
    return [
        f"simple={simple_model(folder / 'simple.onnx')}", f"digits={EXAMPLES / 'digits-mlp.model'}",
        f"types={types_model(folder / 'types.onnx')}",
    ]


@pytest.fixture(scope="module")
def server(start_server, models):
    running = start_server("--models", *models)
    running.wait_for_grpc()
    yield running
    assert running.stop() == 0, running.output


TRITON_CASES = [
    "health-and-metadata", "model-configuration", "simple-sum-and-difference", "output-selection-and-rows", "typed-contents",
    "several-datatypes", "image-model-with-a-tensor-and-an-encoded-image", "messages-up-to-the-request-limit",
    "compressed-messages-are-refused", "errors-reach-the-client-with-their-status", "statistics-count-known-traffic", "repository-control-off",
]


@pytest.mark.parametrize("case", TRITON_CASES)
def test_tritonclient_grpc(server, case):
    run_case("triton_grpc_cases.py", server.grpc_address, case)


@pytest.mark.parametrize("case", ["grpc-client", "rest-client"])
def test_kserve_sdk(server, case):
    run_case("kserve_cases.py", server.grpc_address, server.url, case)


def test_bearer_token_on_grpc(start_server, models):
    running = start_server("--models", models[0], "--inference-token", "s3cret")
    run_case("triton_grpc_cases.py", running.wait_for_grpc(), "bearer-token")
    assert running.stop() == 0, running.output


def test_repository_control_over_grpc(start_server, models):
    running = start_server("--models", models[0], "--allow-model-control")
    run_case("triton_grpc_cases.py", running.wait_for_grpc(), "repository-unload-and-load")
    assert running.stop() == 0, running.output


def test_clients_call_again_after_idle_closes(start_server, models):
    running = start_server("--models", *models, "--idle-timeout", "1", "--queue-wait", "100")
    run_case("triton_grpc_cases.py", running.wait_for_grpc(), "calls-across-idle-closes")
    assert running.stop() == 0, running.output


def test_no_grpc_listener(start_server):
    running = start_server("--models", f"digits={EXAMPLES / 'digits-mlp.model'}", "--no-grpc")
    assert running.grpc_address is None
    assert "gRPC listening" not in running.output
    assert running.stop() == 0, running.output


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_several_datatypes_over_rest(server, binary):
    """The `types` model over REST with tritonclient.http, as the gRPC case sends it: each
    datatype's answer is its input, in binary tensor data and in JSON."""
    client = triton_http.InferenceServerClient(url=server.url.removeprefix("http://"))
    inputs, outputs = [], []
    for datatype, array in ARRAYS.items():
        tensor = triton_http.InferInput(f"in_{datatype}", list(array.shape), datatype)
        tensor.set_data_from_numpy(array, binary_data=binary)
        inputs.append(tensor)
        outputs.append(triton_http.InferRequestedOutput(f"out_{datatype}", binary_data=binary))
    result = client.infer("types", inputs, outputs=outputs)
    for datatype, array in ARRAYS.items():
        answer = result.as_numpy(f"out_{datatype}")
        assert answer.dtype == array.dtype and np.array_equal(answer, array), (datatype, answer, array)
