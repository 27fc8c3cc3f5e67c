"""Scheduling end to end: workers, dynamic batching, the bounded queue, deadlines and clients
that leave, for both engines, observed through `GET /statistics`.

Every test holds a model's worker busy on purpose with a *blocker*: a request to a deliberately
slow model (`slow_models`, about 0.4 s of engine time per 384x384 image; a 576x576 copy takes
about 0.9 s) that the test watches start (`running` in the statistics) before it queues more
requests behind it and watches them queue (`queued`). Nothing depends on sleeping and hoping:
the only timing assumption is that a handful of loopback requests reach the queue while one
blocker runs (a few milliseconds each against 0.4 s or more).
"""

import functools
import http.client
import io
import json
import socket
import struct
import threading
import time
import uuid

import numpy as np
import pytest
import requests
from PIL import Image

from conftest import slow_model_variant
from protocol_clients import GRPCImageRequest

MODEL = "slow"
SIZE = 384  # the slow models' image size (scripts/make_test_models.py SLOW_SIZE)
LONG_SIZE = 576  # a copy that runs 2.25 times as long: for windows that must outlast 0.3 s
K = 4  # requests batched together in the batching test

# Solid colours: the slow networks average over the whole image, so these give well separated
# answers (make_test_models.py checks the spread), and JPEG keeps them small.
COLOURS = [(230, 40, 40), (40, 200, 60), (30, 60, 220), (128, 128, 128)]
BLOCKER_COLOUR = (250, 250, 250)
ENGINES = ["mxnet", "onnx"]
# Tests that do not batch say so: the engines warm up every batch size they prepare when they
# load (MXNet binds one graph per size), which costs seconds with these slow models.
UNBATCHED = ("--max-batch-size", "1")


@functools.lru_cache(maxsize=None)
def jpeg(colour, size=SIZE):
    """A size x size JPEG of one colour (sent at the model's size, so the server need not resize)."""
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def models(slow_models, tmp_path_factory):
    """model(engine, size=SIZE, batch=None) -> a folder to serve; copies made once per module."""
    made = {}

    def model(engine, size=SIZE, batch=None):
        if size == SIZE and batch is None:
            return slow_models[engine]
        key = (engine, size, batch)
        if key not in made:
            destination = tmp_path_factory.mktemp("slow-variant") / f"{engine}-{size}-{batch}"
            made[key] = slow_model_variant(slow_models[engine], destination, size=size, batch=batch)
        return made[key]

    return model


@pytest.fixture
def serve(start_server):
    """serve(folder, *flags): a server for one model named `slow`, with raw tensor answers;
    stopped (and required to exit 0) when the test ends."""
    servers = []

    def start(folder, *flags):
        server = start_server("--service", "mxnet_model_service", *flags, "--models", f"{MODEL}={folder}")
        servers.append(server)
        return server

    yield start
    for server in servers:
        assert server.stop() == 0, server.output


# --- helpers -------------------------------------------------------------------------------------


def statistics(server):
    response = requests.get(f"{server.url}/statistics", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["models"][MODEL]


def wait_for_statistics(server, condition, what, timeout=30, during=None):
    """Polls GET /statistics until condition(model statistics) holds; returns those statistics.
    With `during` (a Call), the state must be reached before that call is answered: once it is,
    the state cannot come any more (the queue has moved on), and waiting longer is pointless."""
    deadline = time.monotonic() + timeout
    while True:
        current = statistics(server)
        if condition(current):
            return current
        if during is not None and during.answered is not None:
            raise AssertionError(f"the blocker was answered before the statistics showed {what}; last: {current}")
        if time.monotonic() > deadline:
            raise AssertionError(f"statistics never showed {what} within {timeout} s; last: {current}")
        time.sleep(0.005)


def settled(server):
    """The statistics once nothing is queued or running (called when every request has been
    answered, so the counters are final)."""
    return wait_for_statistics(server, lambda s: s["queued"] == 0 and s["running"] == 0, "an idle model")


def predict(server, image, headers=None, session=None):
    poster = session or requests
    return poster.post(
        f"{server.url}/{MODEL}/predict", files={"input0": ("image.jpg", image, "image/jpeg")}, headers=headers, timeout=120
    )


class Call(threading.Thread):
    """One prediction request in a thread of its own, with the times it was sent and answered."""

    send = staticmethod(predict)

    def __init__(self, server, image, headers=None):
        super().__init__(daemon=True)
        self.server, self.image, self.headers = server, image, headers
        self.response = self.error = self.sent = self.answered = None
        self.start()

    def run(self):
        self.sent = time.monotonic()
        try:
            self.response = self.send(self.server, self.image, self.headers)
        except Exception as error:  # reported by result()
            self.error = error
        self.answered = time.monotonic()

    def result(self, timeout=120):
        self.join(timeout)
        assert not self.is_alive(), f"no answer within {timeout} s"
        if self.error is not None:
            raise self.error
        return self.response


def answer(response):
    """The one output of a raw-tensor answer for one image, as a float32 array."""
    assert response.status_code == 200, response.text
    (output,) = response.json()["prediction"]
    assert output["shape"] == [1, 10] and output["datatype"] == "FP32", output
    return np.array(output["data"], dtype=np.float32)


def hold_worker(server, size=SIZE, running=1, image=None):
    """Starts a blocker and waits until `running` requests are inside engine calls."""
    blocker = Call(server, image or jpeg(BLOCKER_COLOUR, size))
    wait_for_statistics(server, lambda s: s["running"] >= running, f"running == {running}", during=blocker)
    return blocker


def queue_behind(server, blocker, images, queued, in_order=False):
    """Sends `images` concurrently while `blocker` holds the worker, and waits until `queued`
    requests wait. `in_order`: each one only once the previous one is queued, so that they
    queue in this order."""
    calls = []
    for image in images:
        calls.append(Call(server, image))
        if in_order:
            count = queued - len(images) + len(calls)
            wait_for_statistics(server, lambda s: s["queued"] == count, f"queued == {count}", during=blocker)
    wait_for_statistics(server, lambda s: s["queued"] == queued, f"queued == {queued}", during=blocker)
    return calls


def assert_error(response, status, error_type):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == status and body["type"] == error_type, body
    return body


# --- tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_queued_requests_run_as_one_batch_with_the_answers_they_get_alone(engine, models, serve):
    server = serve(models(engine), "--max-batch-size", str(K))
    images = [jpeg(colour) for colour in COLOURS[:K]]
    baseline = [answer(predict(server, image)) for image in images]  # each alone: a batch of 1
    assert min(np.abs(a - b).max() for i, a in enumerate(baseline) for b in baseline[:i]) > 1e-2, "images look alike"

    blocker = hold_worker(server)
    calls = queue_behind(server, blocker, images, queued=K)
    answer(blocker.result())
    for image_index, (call, expected) in enumerate(zip(calls, baseline)):
        got = answer(call.result())
        assert np.abs(got - expected).max() <= 1e-4, (image_index, got, expected)

    stats = settled(server)
    assert stats["batch_sizes"] == {"1": K + 1, str(K): 1}, stats
    assert stats["engine_calls"] == K + 2, stats
    assert stats["requests"] == 2 * K + 1, stats
    assert (stats["workers"], stats["max_batch_size"], stats["max_batch_delay_ms"], stats["queue_size"]) == (1, K, 0, 100)
    assert (stats["rejected"], stats["expired"], stats["cancelled"], stats["failed"]) == (0, 0, 0, 0), stats


@pytest.mark.parametrize("engine", ENGINES)
def test_batches_never_exceed_the_max_batch_size(engine, models, serve):
    server = serve(models(engine), "--max-batch-size", "2")
    first, second = jpeg(COLOURS[0]), jpeg(COLOURS[1])
    blocker = hold_worker(server, image=first)  # also the answer `first` gets alone
    calls = queue_behind(server, blocker, [first, second, first, second], queued=4, in_order=True)
    alone = answer(blocker.result())
    answers = [answer(call.result()) for call in calls]
    # Queued in order, each batch of two holds both images, and each image gets its own answer.
    assert np.abs(answers[0] - alone).max() <= 1e-4 and np.abs(answers[2] - alone).max() <= 1e-4
    assert np.abs(answers[1] - answers[3]).max() <= 1e-4
    assert np.abs(answers[1] - alone).max() > 1e-2

    stats = settled(server)
    assert stats["max_batch_size"] == 2, stats
    assert stats["batch_sizes"] == {"1": 1, "2": 2}, stats
    assert stats["engine_calls"] == 3, stats


@pytest.mark.parametrize("engine", ENGINES)
def test_a_full_queue_refuses_at_once_with_503_and_retry_after(engine, models, serve):
    server = serve(models(engine), "--queue-size", "2", "--max-batch-size", "2", "--queue-wait", "0")
    blocker = hold_worker(server)
    calls = queue_behind(server, blocker, [jpeg(COLOURS[0]), jpeg(COLOURS[1])], queued=2)

    refused = predict(server, jpeg(COLOURS[2]))
    refused_at = time.monotonic()
    body = assert_error(refused, 503, "ServiceUnavailable")
    assert body["message"], body
    assert refused.headers.get("Retry-After") == "1", dict(refused.headers)
    # Refused while the blocker still ran, not once the queue moved.
    blocker_response = blocker.result()
    assert refused_at < blocker.answered, "the 503 came only after the blocker had finished"
    answer(blocker_response)
    for call in calls:
        answer(call.result())

    stats = settled(server)
    assert stats["queue_size"] == 2, stats
    assert stats["rejected"] == 1, stats
    assert stats["engine_calls"] == 2 and stats["batch_sizes"] == {"1": 1, "2": 1}, stats


@pytest.mark.parametrize("engine", ENGINES)
def test_a_request_at_a_full_queue_waits_for_a_place_and_is_served(engine, models, serve):
    server = serve(models(engine), "--queue-size", "2", "--max-batch-size", "2", "--queue-wait", "60000")
    blocker = hold_worker(server)
    calls = queue_behind(server, blocker, [jpeg(COLOURS[0]), jpeg(COLOURS[1])], queued=2)
    waiting = Call(server, jpeg(COLOURS[2]))
    answer(blocker.result())
    # Sent while the queue was full (the worker held the blocker, two requests queued).
    assert waiting.sent < blocker.answered
    for call in calls:
        answer(call.result())
    answer(waiting.result())
    assert waiting.answered > blocker.answered
    stats = settled(server)
    assert (stats["queue_size"], stats["queue_wait_ms"]) == (2, 60000), stats
    assert stats["rejected"] == 0, stats
    assert stats["requests"] == 4, stats  # the blocker, the two queued, the one that waited


@pytest.mark.parametrize("engine", ENGINES)
def test_a_full_queue_refuses_after_the_queue_wait(engine, models, serve):
    # The long model: the blocker outlasts the 0.3 s wait, so no place opens in time.
    server = serve(models(engine, size=LONG_SIZE), "--queue-size", "1", "--max-batch-size", "1", "--queue-wait", "300")
    blocker = hold_worker(server, size=LONG_SIZE)
    calls = queue_behind(server, blocker, [jpeg(COLOURS[0], LONG_SIZE)], queued=1)
    started = time.monotonic()
    refused = predict(server, jpeg(COLOURS[1], LONG_SIZE))
    waited = time.monotonic() - started
    assert_error(refused, 503, "ServiceUnavailable")
    assert refused.headers.get("Retry-After") == "1", dict(refused.headers)
    assert waited >= 0.3, waited
    answer(blocker.result())
    for call in calls:
        answer(call.result())
    assert settled(server)["rejected"] == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_a_queued_request_is_answered_504_at_its_deadline(engine, models, serve):
    server = serve(models(engine, size=LONG_SIZE), *UNBATCHED)
    blocker = hold_worker(server, size=LONG_SIZE)
    late = Call(server, jpeg(COLOURS[0], LONG_SIZE), headers={"X-Request-Timeout-Ms": "300"})
    response = late.result()
    assert_error(response, 504, "DeadlineExceeded")
    elapsed = late.answered - late.sent
    assert elapsed >= 0.3, elapsed
    answer(blocker.result())
    # At the deadline, not when the worker got to it: answered while the blocker still ran
    # (about 0.9 s), well before its end rather than racing its answer.
    assert blocker.answered - late.answered > 0.2, (elapsed, blocker.answered - blocker.sent)

    stats = settled(server)
    assert stats["expired"] == 1, stats
    assert stats["engine_calls"] == 1 and stats["batch_sizes"] == {"1": 1}, stats


def test_a_grpc_timeout_is_the_queue_deadline(models, serve, tmp_path):
    """tritonclient.grpc's client_timeout travels as grpc-timeout and becomes the request's
    deadline in the model's queue, as X-Request-Timeout-Ms does: the request expires there
    while the blocker runs, without an engine call."""
    server = serve(models("mxnet", size=LONG_SIZE), *UNBATCHED)
    image = tmp_path / "late.jpg"
    image.write_bytes(jpeg(COLOURS[0], LONG_SIZE))
    late = GRPCImageRequest(server.wait_for_grpc(), MODEL, "input0", image, timeout=0.3)
    blocker = hold_worker(server, size=LONG_SIZE)
    late.send()
    outcome = late.outputs()
    assert outcome["error"] == "StatusCode.DEADLINE_EXCEEDED", outcome
    expired = wait_for_statistics(server, lambda s: s["expired"] == 1, "expired == 1", during=blocker)
    assert expired["queued"] == 0 and expired["cancelled"] == 0, expired
    answer(blocker.result())
    stats = settled(server)
    assert stats["engine_calls"] == 1 and stats["batch_sizes"] == {"1": 1}, stats


def test_the_protocols_timeout_parameter_is_the_queue_deadline(models, serve):
    """Triton's request parameter `timeout` (microseconds; tritonclient's infer(timeout=…)) over
    REST v2: the request expires in the queue behind a blocker, 504, without an engine call."""
    server = serve(models("mxnet", size=LONG_SIZE), *UNBATCHED)
    image = jpeg(COLOURS[0], LONG_SIZE)
    header = json.dumps({
        "parameters": {"timeout": 300_000},
        "inputs": [{"name": "input0", "shape": [1], "datatype": "BYTES", "parameters": {"binary_data_size": 4 + len(image)}}],
    })
    blocker = hold_worker(server, size=LONG_SIZE)
    late = requests.post(
        f"{server.url}/v2/models/{MODEL}/infer", data=header.encode() + struct.pack("<I", len(image)) + image,
        headers={"Inference-Header-Content-Length": str(len(header))}, timeout=60)
    assert late.status_code == 504 and "deadline" in late.json()["error"], late.text
    assert blocker.answered is None  # answered at its deadline, while the blocker still ran
    answer(blocker.result())
    stats = settled(server)
    assert stats["expired"] == 1 and stats["engine_calls"] == 1, stats


def multipart(image):
    """(content type, body) of a multipart form with the image as input0."""
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"input0\"; filename=\"image.jpg\"\r\n"
        f"Content-Type: image/jpeg\r\n\r\n"
    ).encode() + image + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


@pytest.mark.parametrize("engine", ENGINES)
def test_a_client_that_leaves_while_queued_costs_no_engine_call(engine, models, serve):
    server = serve(models(engine), *UNBATCHED)
    host, port = server.url.removeprefix("http://").split(":")
    blocker = hold_worker(server)
    content_type, body = multipart(jpeg(COLOURS[0]))
    head = f"POST /{MODEL}/predict HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    client = socket.create_connection((host, int(port)), timeout=30)
    try:
        client.sendall(head.encode() + body)  # a complete request; then the client leaves
        wait_for_statistics(server, lambda s: s["queued"] == 1, "queued == 1", during=blocker)
    finally:
        client.close()
    answer(blocker.result())
    wait_for_statistics(server, lambda s: s["cancelled"] == 1, "cancelled == 1")
    stats = settled(server)
    assert stats["cancelled"] == 1 and stats["engine_calls"] == 1, stats

    # The server goes on serving, two requests on one kept-alive connection included.
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    sockets = []
    try:
        for colour in COLOURS[1:3]:
            content_type, body = multipart(jpeg(colour))
            connection.request("POST", f"/{MODEL}/predict", body=body, headers={"Content-Type": content_type})
            reply = connection.getresponse()
            assert reply.status == 200, reply.read()
            assert len(reply.read()) > 0
            assert not reply.will_close, "the server closed a keep-alive connection"
            sockets.append(connection.sock)
    finally:
        connection.close()
    assert sockets[0] is sockets[1], "the second request needed a new connection"
    stats = settled(server)
    assert stats["engine_calls"] == 3 and stats["cancelled"] == 1, stats


@pytest.mark.parametrize("engine", ENGINES)
def test_a_model_with_a_fixed_batch_dimension_never_batches(engine, models, serve):
    server = serve(models(engine, batch=1))
    blocker = hold_worker(server)
    calls = queue_behind(server, blocker, [jpeg(colour) for colour in COLOURS[:3]], queued=3)
    answer(blocker.result())
    for call in calls:
        answer(call.result())
    stats = settled(server)
    assert stats["batch_sizes"] == {"1": 4}, stats
    assert stats["engine_calls"] == 4, stats


@pytest.mark.parametrize("workers", ["2", f"{MODEL}=2"])
@pytest.mark.parametrize("engine", ENGINES)
def test_two_workers_run_two_engine_calls_at_once(engine, workers, models, serve):
    server = serve(models(engine), "--workers", workers, *UNBATCHED)
    first = hold_worker(server)
    second = Call(server, jpeg(COLOURS[0]))
    stats = wait_for_statistics(server, lambda s: s["running"] == 2, "running == 2", during=first)
    assert stats["workers"] == 2 and stats["queued"] == 0, stats
    answer(first.result())
    answer(second.result())
    stats = settled(server)
    assert stats["engine_calls"] == 2 and stats["batch_sizes"] == {"1": 2}, stats


def infer_v2(server, image, headers=None):
    """The Open Inference Protocol's infer with the image as one BYTES item in binary data, as
    tritonclient sends it; answered in the seed API's raw-answer shape, for `answer`."""
    header = json.dumps({"inputs": [{"name": "input0", "shape": [1], "datatype": "BYTES", "parameters": {"binary_data_size": 4 + len(image)}}]})
    body = header.encode() + struct.pack("<I", len(image)) + image
    response = requests.post(
        f"{server.url}/v2/models/{MODEL}/infer", data=body, headers={"Inference-Header-Content-Length": str(len(header)), **(headers or {})}, timeout=120
    )
    if response.status_code == 200:
        response._content = json.dumps({"prediction": response.json()["outputs"]}).encode()
    return response


class InferCall(Call):
    """An Open Inference Protocol request in a thread of its own."""

    send = staticmethod(infer_v2)


def test_batches_form_across_the_seed_api_and_the_open_inference_protocol(models, serve, tmp_path):
    """Two /predict requests, one v2 REST infer and one v2 gRPC infer (tritonclient.grpc) queue
    behind a blocker; the next engine call takes all four, which only a batch mixing the
    surfaces can hold. Each answer equals what its image gets alone, and v2's answers equal
    /predict's."""
    server = serve(models("mxnet"), "--max-batch-size", str(K))
    images = [jpeg(colour) for colour in COLOURS[:K]]
    alone = [answer(predict(server, image)) for image in images]
    for image, expected in zip(images, alone):
        assert np.abs(answer(infer_v2(server, image)) - expected).max() <= 1e-6
    grpc_image = tmp_path / "grpc.jpg"
    grpc_image.write_bytes(images[3])
    grpc_request = GRPCImageRequest(server.wait_for_grpc(), MODEL, "input0", grpc_image)

    blocker = hold_worker(server)
    calls = [Call(server, image) for image in images[:2]] + [InferCall(server, images[2])]
    grpc_request.send()
    wait_for_statistics(server, lambda s: s["queued"] == K, f"queued == {K}", during=blocker)
    answer(blocker.result())
    for call, expected in zip(calls, alone):
        assert np.abs(answer(call.result()) - expected).max() <= 1e-4
    (grpc_answer,) = grpc_request.outputs().values()
    assert np.abs(np.asarray(grpc_answer, dtype=np.float32).reshape(-1) - alone[3]).max() <= 1e-4

    stats = settled(server)
    assert stats["batch_sizes"].get(str(K)) == 1, stats
    assert stats["requests"] == 3 * K + 1, stats
