"""Predictions from the bundled example models, through the real server and MXNet."""

import base64
import json

import pytest
import requests

from conftest import EXAMPLES

SAMPLES = EXAMPLES / "samples"
EXPECTED = json.loads((SAMPLES / "expected.json").read_text())["samples"]


def predict(server, model, files=None, data=None, **kwargs):
    return requests.post(f"{server.url}/{model}/predict", files=files, data=data, timeout=60, **kwargs)


@pytest.mark.parametrize("model", ["digits-mlp", "digits-cnn"])
@pytest.mark.parametrize("sample", EXPECTED, ids=[s["file"] for s in EXPECTED])
def test_each_sample_gets_the_right_answer(digits_server, model, sample):
    response = predict(digits_server, model, files={"input0": (sample["file"], (SAMPLES / sample["file"]).read_bytes())})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    top5 = response.json()["prediction"][0]
    assert len(top5) == 5
    assert top5[0]["class"] == str(sample["label"])
    expected = sample["predictions"][model]
    # The same engine on the same bytes: MXNet's own Python gives these probabilities.
    assert top5[0]["probability"] == pytest.approx(expected["probability"], abs=1e-6)
    probabilities = [entry["probability"] for entry in top5]
    assert probabilities == sorted(probabilities, reverse=True)
    for entry in top5:
        assert entry["probability"] == pytest.approx(expected["probabilities"][int(entry["class"])], abs=1e-6)


def test_two_models_in_one_server_each_answer_for_themselves(digits_server):
    sample = EXPECTED[0]
    image = (SAMPLES / sample["file"]).read_bytes()
    answers = {}
    for model in ("digits-mlp", "digits-cnn"):
        response = predict(digits_server, model, files={"input0": ("d.png", image)})
        assert response.status_code == 200, response.text
        answers[model] = response.json()["prediction"][0][0]["probability"]
        assert answers[model] == pytest.approx(sample["predictions"][model]["probability"], abs=1e-6)
    assert answers["digits-mlp"] != answers["digits-cnn"]


def test_inputs_by_data_name_base64_text_and_raw_body(digits_server):
    sample = EXPECTED[1]
    image = (SAMPLES / sample["file"]).read_bytes()
    by_position = predict(digits_server, "digits-cnn", files={"input0": ("d.png", image)}).json()
    by_data_name = predict(digits_server, "digits-cnn", files={"data": ("d.png", image)})
    as_base64 = predict(digits_server, "digits-cnn", files={"input0": (None, base64.b64encode(image).decode())})
    as_data_uri = predict(
        digits_server, "digits-cnn", files={"input0": (None, "data:image/png;base64," + base64.b64encode(image).decode())}
    )
    raw_body = predict(digits_server, "digits-cnn", data=image, headers={"Content-Type": "image/png"})
    for response in (by_data_name, as_base64, as_data_uri, raw_body):
        assert response.status_code == 200, response.text
        assert response.json() == by_position


def test_concurrent_requests_to_both_models_all_answer(digits_server):
    from concurrent.futures import ThreadPoolExecutor

    def call(index):
        sample = EXPECTED[index % len(EXPECTED)]
        model = ("digits-mlp", "digits-cnn")[index % 2]
        response = predict(digits_server, model, files={"input0": ("d", (SAMPLES / sample["file"]).read_bytes())})
        return response.status_code, response.json()["prediction"][0][0]["class"], str(sample["label"])

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, range(64)))
    assert all(status == 200 and got == want for status, got, want in results), results
