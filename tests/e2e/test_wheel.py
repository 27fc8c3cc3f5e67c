"""The pip wheel, as a user installs it: scripts/build-wheel.sh builds it (from the release build
the container image also uses), pip installs it into a fresh virtual environment with its
dependencies from PyPI, and the installed commands run from a folder outside the repository with
nothing of the repository on their path or in their environment: `--version` names the engines
inside the environment, the example models answer as the source build answers them, a seed-style
Python service runs on the environment's interpreter, and `deep-model-export` packs a model.
"""

import json
import os
import pathlib
import shutil
import subprocess
import zipfile

import pytest
import requests

from conftest import EXAMPLES, ROOT

SAMPLES = EXAMPLES / "samples"
# The variables through which the source build finds the project's engines and Python: the
# installed server must find its own.
PROJECT_VARIABLES = ("DMS_MXNET_LIBRARY", "DMS_ONNXRUNTIME_LIBRARY", "DMS_SERVICE_PYTHON", "DMS_SERVICE_PACKAGES", "PYTHONPATH", "VIRTUAL_ENV")


def run(command, **options):
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, **options)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with the wheel installed, and a clean environment to run its commands in."""
    build = run([ROOT / "scripts" / "build-wheel.sh", "--output", tmp_path_factory.mktemp("dist")], timeout=3600)
    assert build.returncode == 0, build.stdout + build.stderr
    wheel = pathlib.Path(build.stdout.strip().splitlines()[-1])
    assert wheel.name.startswith("deep_model_server-") and "-py3-none-manylinux_" in wheel.name, wheel.name

    venv = tmp_path_factory.mktemp("user") / "venv"
    # The machine's interpreter, not the project venv's: a user's fresh environment.
    python = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
    assert run([python, "-m", "venv", venv], timeout=120).returncode == 0
    install = run([venv / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check", "--no-input", wheel], timeout=1200)
    assert install.returncode == 0, install.stdout + install.stderr

    # For the server fixture, which adds these to its own environment (None removes a variable).
    changes = {name: None for name in PROJECT_VARIABLES} | {"PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin"}
    return venv, changes


def environment(changes):
    """This process's environment with `changes` applied, for the commands run directly."""
    return {name: value for name, value in (dict(os.environ) | changes).items() if value is not None}


@pytest.fixture
def workdir(tmp_path):
    """A folder outside the repository holding copies of the example models."""
    for name in ("digits-cnn.model", "digits-mlp.model"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    shutil.copytree(EXAMPLES / "digits-cnn-onnx", tmp_path / "digits-cnn-onnx")
    return tmp_path


def predict(server, model, sample):
    answer = requests.post(f"{server.url}/{model}/predict", files={"input0": (sample.name, sample.read_bytes())}, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_binaries_are_self_contained(installed):
    venv, _ = installed
    site_packages = next((venv / "lib").glob("python3*/site-packages"))
    for binary in ("deep-model-server", "deep-model-export"):
        path = site_packages / "deep_model_server" / "bin" / binary
        linked = run(["ldd", path]).stdout
        assert "not found" not in linked, linked
        assert "libswift" not in linked and "libFoundation" not in linked, linked
        # libjpeg-turbo and libpng come from the wheel, not from the machine.
        for library in ("libturbojpeg", "libpng16"):
            line = next(line for line in linked.splitlines() if library in line)
            assert "deep_model_server.libs" in line, line


def test_version_names_the_engines_inside_the_environment(installed, workdir):
    venv, changes = installed
    result = run([venv / "bin" / "deep-model-server", "--version"], cwd=workdir, env=environment(changes), timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "deep-model-server 0.1.0", result.stdout
    site_packages = str(next((venv / "lib").glob("python3*/site-packages")))
    mxnet = next(line for line in lines if line.startswith("MXNet "))
    assert mxnet.startswith("MXNet 1.9.1: ") and mxnet.endswith(f"{site_packages}/mxnet/libmxnet.so"), mxnet
    onnx = next(line for line in lines if line.startswith("ONNX Runtime "))
    assert f": {site_packages}/onnxruntime/capi/libonnxruntime.so." in onnx, onnx
    assert f"Python services: {venv}/bin/python" in result.stdout, result.stdout


def test_the_installed_server_answers_as_the_source_build(installed, workdir, start_server):
    venv, changes = installed
    models = ["digits-cnn=digits-cnn.model", "digits-mlp=digits-mlp.model", "digits-onnx=digits-cnn-onnx"]
    wheel_server = start_server("--models", *models, cwd=workdir, env=changes, binary=venv / "bin" / "deep-model-server", store_dir=workdir / "store")
    source_server = start_server("--models", *[f"{name}={workdir / location}" for name, location in (model.split("=") for model in models)])
    for model in ("digits-cnn", "digits-mlp", "digits-onnx"):
        for sample in ("digit-7-7.png", "digit-9-9.png"):
            installed_answer = predict(wheel_server, model, SAMPLES / sample)
            source_answer = predict(source_server, model, SAMPLES / sample)
            assert [entry["class"] for entry in installed_answer["prediction"][0]] == [entry["class"] for entry in source_answer["prediction"][0]]
            for got, want in zip(installed_answer["prediction"][0], source_answer["prediction"][0]):
                assert got["probability"] == pytest.approx(want["probability"], abs=1e-6)
            assert installed_answer["prediction"][0][0]["class"] == sample.split("-")[1]
    assert not any(str(ROOT) in line for line in wheel_server.lines), wheel_server.output


def test_a_seed_style_python_service_runs_on_the_environments_interpreter(installed, workdir, start_server):
    venv, changes = installed
    shutil.copy(EXAMPLES / "python-services" / "digits_service.py", workdir / "digits_service.py")
    server = start_server(
        "--models", "digits=digits-cnn.model", "--service", "digits_service.py", cwd=workdir, env=changes,
        binary=venv / "bin" / "deep-model-server", store_dir=workdir / "store")
    assert predict(server, "digits", SAMPLES / "digit-7-7.png")["prediction"][0][0]["class"] == "7"
    # The worker processes, children of any of the server's threads, and the program each runs.
    children = [child for task in pathlib.Path(f"/proc/{server.process.pid}/task").iterdir() for child in (task / "children").read_text().split()]
    programs = [pathlib.Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[0].decode() for child in children]
    assert str(venv / "bin" / "python") in programs, programs


def test_the_installed_export_tool_packs_a_model_the_server_serves(installed, workdir, start_server):
    venv, changes = installed
    shutil.copytree(EXAMPLES / "digits-mlp", workdir / "digits-mlp")
    export = run(
        [venv / "bin" / "deep-model-export", "--model-name", "packed", "--model-path", "digits-mlp"], cwd=workdir, env=environment(changes), timeout=120)
    assert export.returncode == 0, export.stdout + export.stderr
    assert (workdir / "packed.model").is_file()
    with zipfile.ZipFile(workdir / "packed.model") as archive:
        manifest = json.loads(archive.read("MANIFEST.json"))
    assert manifest["Engine"] == {"Name": "MXNet", "Version": "1.9.1"}, manifest
    server = start_server("--models", "packed=packed.model", cwd=workdir, env=changes, binary=venv / "bin" / "deep-model-server", store_dir=workdir / "store")
    assert predict(server, "packed", SAMPLES / "digit-9-9.png")["prediction"][0][0]["class"] == "9"

