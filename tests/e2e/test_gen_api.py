"""--gen-api LANG: the models are loaded, build/openapi.json and a client SDK made by
openapi-generator are written, and the server exits 0 without serving. The generated Python
client, installed into a fresh virtual environment, gets the same answers as curl."""

import json
import os
import pathlib
import subprocess
import sys

import requests

from conftest import EXAMPLES, ROOT, SERVER_BINARY, assert_no_crash_signs

SAMPLE = EXAMPLES / "samples" / "digit-7-7.png"
ROWS = {"input0": [[1, 2, 3, 4], [0.5, -1, 8, 2]], "input1": [[2], [-3]]}


def generate(tmp_path, *arguments, env=None):
    return subprocess.run(
        [str(SERVER_BINARY), "--log-file", str(tmp_path / "gen.log"), "--model-store", str(tmp_path / "store"), *arguments],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env or os.environ,
    )


def test_generated_python_client_answers_as_curl(tmp_path, start_server):
    models = [f"digits={EXAMPLES / 'digits-mlp.model'}", f"add-scale={EXAMPLES / 'two-inputs-onnx'}"]
    result = generate(tmp_path, "--models", *models, "--gen-api", "python")
    assert result.returncode == 0, result.stdout + result.stderr
    assert_no_crash_signs(result.stdout + result.stderr)
    document = json.loads((tmp_path / "build" / "openapi.json").read_text())
    assert {"/digits/predict", "/add-scale/predict"} <= set(document["paths"])
    client = tmp_path / "build" / "python-client"
    assert (client / "openapi_client" / "api" / "default_api.py").is_file()

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", str(client), "-c", str(ROOT / "python" / "constraints.txt")],
        capture_output=True, text=True, timeout=600,
    )
    assert install.returncode == 0, install.stdout + install.stderr

    server = start_server("--models", *models)
    try:
        script = f"""
import json, sys
import openapi_client
from openapi_client.models import AddScalePredictRequest
api = openapi_client.DefaultApi(openapi_client.ApiClient(openapi_client.Configuration(host={server.url!r})))
digits = api.digits_predict(input0=open({str(SAMPLE)!r}, "rb").read())
rows = api.add_scale_predict(AddScalePredictRequest.from_dict(json.loads({json.dumps(ROWS)!r})))
print(json.dumps({{"digits": digits.to_dict(), "rows": rows.to_dict()}}))
"""
        run = subprocess.run([str(venv / "bin" / "python"), "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert run.returncode == 0, run.stdout + run.stderr
        answers = json.loads(run.stdout)
        with SAMPLE.open("rb") as image:
            by_curl = requests.post(f"{server.url}/digits/predict", files={"input0": image}, timeout=30).json()
        assert answers["digits"] == by_curl
        assert answers["digits"]["prediction"][0][0]["class"] == "7"
        assert answers["rows"] == requests.post(f"{server.url}/add-scale/predict", json=ROWS, timeout=30).json()
    finally:
        assert server.stop() == 0, server.output


def test_unknown_language_is_a_clear_error(tmp_path):
    result = generate(tmp_path, "--models", f"digits={EXAMPLES / 'digits-mlp.model'}", "--gen-api", "klingon")
    assert result.returncode == 1
    assert "--gen-api klingon: openapi-generator has no generator by that name; for example python, java" in result.stderr
    assert not (tmp_path / "build").exists()


def test_missing_java_says_what_to_install(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "JAVA_HOME"}
    env["PATH"] = str(tmp_path / "empty")
    result = generate(tmp_path, "--models", f"digits={EXAMPLES / 'digits-mlp.model'}", "--gen-api", "python", env=env)
    assert result.returncode == 1
    assert "no java was found" in result.stderr and "apt-get install openjdk-17-jre-headless" in result.stderr
    assert not pathlib.Path(tmp_path / "build").exists()
