"""KServe's Python SDK (`kserve`: InferenceGRPCClient and InferenceRESTClient with the v2
protocol) against the server, in .runtime/clients-venv and in a process of its own (its protobuf
modules clash with tritonclient's). tests/e2e/test_open_inference_grpc.py runs each case:

    python kserve_cases.py GRPC_ADDRESS HTTP_URL CASE

Models as in triton_grpc_cases.py: `simple` and `digits`.
"""

import asyncio
import json
import pathlib
import sys

import numpy as np
from kserve import InferenceGRPCClient, InferenceRESTClient, InferInput, InferRequest, RESTConfig

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "examples"
SAMPLES = json.loads((EXAMPLES / "samples" / "expected.json").read_text())["samples"]
SEVEN = next(sample for sample in SAMPLES if sample["file"] == "digit-7-7.png")


def simple_request(binary, request_id):
    a = np.arange(16, dtype=np.int32).reshape(1, 16)
    b = np.full((1, 16), 3, dtype=np.int32)
    inputs = []
    for name, array in (("INPUT0", a), ("INPUT1", b)):
        tensor = InferInput(name, [1, 16], "INT32")
        tensor.set_data_from_numpy(array, binary_data=binary)
        inputs.append(tensor)
    return a, b, InferRequest(model_name="simple", infer_inputs=inputs, request_id=request_id)


def digits_request(binary):
    pixels = InferInput("data", [1, 1, 8, 8], "FP32")
    pixels.set_data_from_numpy(np.asarray(SEVEN["input"], dtype=np.float32).reshape(1, 1, 8, 8), binary_data=binary)
    return InferRequest(model_name="digits", infer_inputs=[pixels])


def outputs(response):
    return {output.name: output.as_numpy() for output in response.outputs}


def check_digits(response):
    (probabilities,) = outputs(response).values()
    assert np.allclose(probabilities.reshape(-1), SEVEN["predictions"]["digits-mlp"]["probabilities"], atol=1e-6), probabilities


async def grpc_client(address, _url):
    client = InferenceGRPCClient(address)
    try:
        assert await client.is_server_ready()
        assert await client.is_model_ready("simple")
        for binary in (True, False):  # raw_input_contents, then the typed contents fields
            a, b, request = simple_request(binary=binary, request_id=f"kserve-grpc-{binary}")
            response = await client.infer(request)
            assert response.id == f"kserve-grpc-{binary}" and response.model_name == "simple"
            assert np.array_equal(outputs(response)["OUTPUT0"], a + b) and np.array_equal(outputs(response)["OUTPUT1"], a - b)
            check_digits(await client.infer(digits_request(binary=binary)))
        try:
            await client.infer(InferRequest(model_name="nope", infer_inputs=request.inputs))
        except Exception as error:  # grpc.aio.AioRpcError
            assert "NOT_FOUND" in str(error.code()) and "nope" in error.details(), error
        else:
            raise AssertionError("an unknown model was answered")
    finally:
        await client.close()


async def rest_client(_address, url):
    client = InferenceRESTClient(RESTConfig(protocol="v2"))
    try:
        assert await client.is_server_live(url) and await client.is_server_ready(url)
        assert await client.is_model_ready(url, "simple")
        for binary in (False, True):
            a, b, request = simple_request(binary=binary, request_id=f"kserve-rest-{binary}")
            response = await client.infer(url, request, model_name="simple")
            assert response.id == f"kserve-rest-{binary}", response.id
            assert np.array_equal(outputs(response)["OUTPUT0"], a + b) and np.array_equal(outputs(response)["OUTPUT1"], a - b)
            check_digits(await client.infer(url, digits_request(binary), model_name="digits"))
        try:
            await client.infer(url, request, model_name="nope")
        except Exception as error:  # httpx.HTTPStatusError
            assert "404" in str(error), error
        else:
            raise AssertionError("an unknown model was answered")
    finally:
        await client.close()


CASES = {"grpc-client": grpc_client, "rest-client": rest_client}

if __name__ == "__main__":
    address, url, name = sys.argv[1:]
    asyncio.run(CASES[name](address, url))
    print(f"{name}: passed")
