"""deep-model-export packs ONNX models, checked by loading them into ONNX Runtime."""

import json
import shutil
import zipfile

import requests

from conftest import EXAMPLES
from test_export import assert_refused, export

SAMPLE = (EXAMPLES / "samples" / "digit-7-7.png").read_bytes()


def test_onnx_image_model_with_signature(start_server, tmp_path):
    result = export("--model-name", "cnn", "--model-path", EXAMPLES / "digits-cnn-onnx", "--output", tmp_path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "cnn.model") as archive:
        manifest = json.loads(archive.read("MANIFEST.json"))
    assert manifest["Engine"] == {"Name": "ONNX Runtime", "Version": "1.32.0"}
    assert manifest["Model"]["Model File"] == "digits-cnn.onnx"
    assert manifest["Model"]["Model Format"] == "ONNX"
    assert manifest["Model"]["Service"] == "mxnet_vision_service"
    server = start_server("--models", f"cnn={tmp_path / 'cnn.model'}")
    response = requests.post(f"{server.url}/cnn/predict", files={"input0": ("d.png", SAMPLE)}, timeout=60)
    assert response.status_code == 200 and response.json()["prediction"][0][0]["class"] == "7"
    assert server.stop() == 0


def test_onnx_model_without_signature_gets_the_models_own(start_server, tmp_path):
    folder = tmp_path / "iris"
    folder.mkdir()
    shutil.copy(EXAMPLES / "iris-onnx" / "iris.onnx", folder)
    result = export("--model-name", "iris", "--model-path", folder, "--output", tmp_path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "iris.model") as archive:
        assert "Signature" not in json.loads(archive.read("MANIFEST.json"))["Model"]
        assert "signature.json" not in archive.namelist()
    server = start_server("--models", f"iris={tmp_path / 'iris.model'}")
    response = requests.post(f"{server.url}/iris/predict", json=[5.1, 3.5, 1.4, 0.2], timeout=60)
    assert response.status_code == 200, response.text
    assert response.json()["prediction"][0]["data"] == [0]
    assert server.stop() == 0


def test_onnx_refusals(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "m.onnx").write_bytes(b"not a protobuf at all")
    result = export("--model-name", "b", "--model-path", broken, cwd=tmp_path)
    assert_refused(result, "m.onnx")
    assert not (tmp_path / "b.model").exists()

    mismatch = tmp_path / "mismatch"
    shutil.copytree(EXAMPLES / "digits-cnn-onnx", mismatch)
    signature = json.loads((mismatch / "signature.json").read_text())
    signature["inputs"][0]["data_name"] = "pixels"
    (mismatch / "signature.json").write_text(json.dumps(signature))
    result = export("--model-name", "m", "--model-path", mismatch, cwd=tmp_path)
    assert_refused(result, "pixels")
    assert not (tmp_path / "m.model").exists()
