"""Models that must not become ready: each is a clear load error naming the model, the file and
the problem, found before the engine could abort the process."""

import json
import zipfile

import pytest

from conftest import EXAMPLES, assert_failed_start

MODEL_FOLDER = EXAMPLES / "digits-mlp"
SIGNATURE = json.loads((MODEL_FOLDER / "signature.json").read_text())


def archive_with(tmp_path, replacements):
    """The digits-mlp files, with some replaced, zipped into broken.model."""
    path = tmp_path / "broken.model"
    with zipfile.ZipFile(path, "w") as archive:
        for file in MODEL_FOLDER.iterdir():
            content = replacements.get(file.name, file.read_bytes())
            if content is not None:
                archive.writestr(file.name, content)
    return path


def signature_with(**changes):
    signature = json.loads(json.dumps(SIGNATURE))
    for key, value in changes.items():
        signature[key] = value
    return json.dumps(signature)


PARAMS = (MODEL_FOLDER / "digits-mlp-0000.params").read_bytes()


@pytest.mark.parametrize(
    "replacements,fragments",
    [
        ({"digits-mlp-0000.params": b"PK not mxnet at all, long enough"}, ["digits-mlp-0000.params", "magic"]),
        ({"digits-mlp-0000.params": PARAMS[:200]}, ["MXNet could not create a predictor"]),
        ({"digits-mlp-symbol.json": b"[1, 2"}, ["digits-mlp-symbol.json"]),
        ({"signature.json": signature_with(inputs=[{"data_name": "pixels", "data_shape": [0, 1, 8, 8]}])}, ["'pixels'", "not an input"]),
        ({"signature.json": signature_with(outputs=[{"data_name": "softmax_output", "data_shape": [0, 11]}])}, ["[0, 11]", "produces"]),
        ({"signature.json": signature_with(input_type="text/plain")}, ["input_type", "text/plain"]),
        ({"signature.json": None}, ["signature.json"]),
    ],
    ids=["params-not-mxnet", "params-truncated", "symbol-not-json", "input-not-in-symbol", "output-shape-differs", "bad-mime-type", "no-signature"],
)
def test_broken_model_is_a_load_error(start_server, tmp_path, replacements, fragments):
    server = start_server("--models", f"broken={archive_with(tmp_path, replacements)}", wait=False)
    assert_failed_start(server, "models failed to load: broken: ", *fragments)
