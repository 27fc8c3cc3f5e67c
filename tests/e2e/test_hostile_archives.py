"""Hostile or broken archives next to a good model, with --allow-model-failures: each is refused
with a clear reason, nothing is written outside the store, and the good model keeps serving."""

import zipfile

import pytest
import requests

from conftest import EXAMPLES

SAMPLE = (EXAMPLES / "samples" / "digit-7-7.png").read_bytes()
GOOD = (EXAMPLES / "digits-mlp.model").read_bytes()


def make_archives(folder):
    archives = {}
    slip = folder / "slip.model"
    with zipfile.ZipFile(slip, "w") as archive:
        archive.writestr("signature.json", "{}")
        archive.writestr("../../escaped.txt", "gotcha")
    archives["slip"] = (slip, "outside the model folder")
    truncated = folder / "truncated.model"
    truncated.write_bytes(GOOD[: len(GOOD) // 2])
    archives["truncated"] = (truncated, "zip")
    duplicate = folder / "duplicate.model"
    with zipfile.ZipFile(duplicate, "w") as archive:
        archive.writestr("signature.json", "{}")
        archive.writestr("signature.json", "{}")
    archives["duplicate"] = (duplicate, "more than once")
    not_zip = folder / "text.model"
    not_zip.write_text("just text")
    archives["text"] = (not_zip, "not a readable zip archive")
    return archives


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_hostile_archives_are_refused_and_the_rest_serves(start_server, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    archives = make_archives(work)
    store = tmp_path / "store"
    models = [f"{name}={path}" for name, (path, _) in archives.items()] + [f"good={EXAMPLES / 'digits-mlp.model'}"]
    server = start_server("--allow-model-failures", "--models", *models, store_dir=store, cwd=work)

    response = requests.post(f"{server.url}/good/predict", files={"input0": ("d.png", SAMPLE)}, timeout=60)
    assert response.status_code == 200
    assert response.json()["prediction"][0][0]["class"] == "7"
    health = requests.get(f"{server.url}/ping", timeout=10).json()
    assert set(health["models"]) == set(archives)
    for name, (_, fragment) in archives.items():
        assert fragment in health["models"][name], (name, health["models"][name])
    assert server.stop() == 0

    assert not list(tmp_path.rglob("escaped.txt"))
    assert not [p for p in (store / "unpacked").iterdir() if p.name.startswith(".partial")]
