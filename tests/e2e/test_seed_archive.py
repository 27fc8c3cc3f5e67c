"""Archives made by the seed-era tool, `mxnet-model-export` from mxnet-model-server 0.1.5, load and
serve with the right answers (issue #3, point 2).

The archives are built during set-up with the real tool, in a pinned virtual environment kept out of
git (.runtime/seed-venv by default), by scripts/make_seed_archive.sh. The first run installs the pins
(about 15 s with a warm network); later runs reuse the venv (its stamp matches) and only export.

Environment: DMS_SEED_ARCHIVE_SCRIPT (default scripts/make_seed_archive.sh), DMS_SEED_VENV (default
.runtime/seed-venv), DMS_SEED_PYTHON (interpreter for the venv, CPython 3.8-3.11; default python3).
"""

import json
import os
import pathlib
import subprocess
import zipfile

import pytest
import requests

from conftest import EXAMPLES, ROOT

SAMPLES = EXAMPLES / "samples"
EXPECTED = json.loads((SAMPLES / "expected.json").read_text())["samples"]
MODELS = ("digits-mlp", "digits-cnn")
SCRIPT = pathlib.Path(os.environ.get("DMS_SEED_ARCHIVE_SCRIPT", ROOT / "scripts" / "make_seed_archive.sh"))
SEED_VENV = pathlib.Path(os.environ.get("DMS_SEED_VENV", ROOT / ".runtime" / "seed-venv"))


@pytest.fixture(scope="session")
def seed_archives(tmp_path_factory):
    """name -> path of NAME.model built from examples/NAME by the seed-era tool."""
    output = tmp_path_factory.mktemp("seed-archives")
    env = dict(os.environ)
    if "DMS_SEED_PYTHON" in os.environ:
        env["SEED_PYTHON"] = os.environ["DMS_SEED_PYTHON"]
    archives = {}
    for name in MODELS:
        result = subprocess.run(
            ["bash", str(SCRIPT), str(SEED_VENV), str(EXAMPLES / name), name, str(output)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
        )
        assert result.returncode == 0, f"{SCRIPT} failed:\n{result.stdout}{result.stderr}"
        archives[name] = pathlib.Path(result.stdout.strip().splitlines()[-1])
        assert archives[name] == output / f"{name}.model"
    return archives


@pytest.fixture(scope="module")
def seed_server(start_server, seed_archives):
    """Both seed-era archives in one server, under names of their own."""
    server = start_server("--models", *[f"seed-{name}={path}" for name, path in seed_archives.items()])
    yield server
    assert server.stop() == 0, server.output


@pytest.mark.parametrize("name", MODELS)
def test_the_archive_is_what_the_seed_tool_makes(seed_archives, name):
    """Guards the fixture: a flat zip with the tool's own manifest and stock service file, so the
    tests below really exercise the seed-era layout rather than one made by deep-model-export."""
    with zipfile.ZipFile(seed_archives[name]) as archive:
        names = sorted(archive.namelist())
        manifest = json.loads(archive.read("MANIFEST.json"))
    assert names == sorted(
        [
            "MANIFEST.json",
            "signature.json",
            "synset.txt",
            "mxnet_vision_service.py",
            f"{name}-symbol.json",
            f"{name}-0000.params",
        ]
    )
    assert manifest["Model-Archive-Version"] == 0.1
    assert manifest["Engine"] == {"MXNet": 0.12}
    assert manifest["Model"] == {
        "Symbol": f"{name}-symbol.json",
        "Parameters": f"{name}-0000.params",
        "Signature": "signature.json",
        "Service": "mxnet_vision_service.py",
        "Description": name,
        "Model-Name": name,
        "Model-Format": "MXNet-Symbolic",
    }


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("sample", EXPECTED, ids=[s["file"] for s in EXPECTED])
def test_each_sample_gets_the_right_answer_from_the_seed_archive(seed_server, name, sample):
    response = requests.post(
        f"{seed_server.url}/seed-{name}/predict",
        files={"input0": (sample["file"], (SAMPLES / sample["file"]).read_bytes())},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    top5 = response.json()["prediction"][0]
    expected = sample["predictions"][name]
    assert top5[0]["class"] == expected["class"] == str(sample["label"])
    assert top5[0]["probability"] == pytest.approx(expected["probability"], abs=1e-6)
    for entry in top5:
        assert entry["probability"] == pytest.approx(expected["probabilities"][int(entry["class"])], abs=1e-6)
