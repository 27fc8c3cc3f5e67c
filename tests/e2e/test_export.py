"""deep-model-export: packs a model folder after checking it with the server's own validator."""

import json
import shutil
import subprocess
import zipfile

import pytest

from conftest import EXAMPLES, EXPORT_BINARY, USAGE_EXIT, assert_no_crash_signs

SOURCE = EXAMPLES / "digits-mlp"


def export(*args, cwd):
    return subprocess.run([str(EXPORT_BINARY), *[str(a) for a in args]], cwd=cwd, capture_output=True, text=True, timeout=60)


def assert_refused(result, *fragments):
    """deep-model-export refused its input: the usage status (every refusal is a validation error,
    reported with one `Error:` line), no crash, and each fragment in the message."""
    assert result.returncode == USAGE_EXIT, (result.returncode, result.stderr)
    assert_no_crash_signs(result.stdout + result.stderr)
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.fixture
def model_folder(tmp_path):
    folder = tmp_path / "digits"
    shutil.copytree(SOURCE, folder)
    (folder / "notes.txt").write_text("any other file is packed too\n")
    return folder


def test_packs_every_file_and_writes_a_manifest_into_the_archive(model_folder, tmp_path):
    before = sorted(p.name for p in model_folder.iterdir())
    result = export("--model-name", "digits", "--model-path", model_folder, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    archive = tmp_path / "digits.model"
    with zipfile.ZipFile(archive) as zipped:
        names = sorted(zipped.namelist())
        manifest = json.loads(zipped.read("MANIFEST.json"))
    assert names == sorted(before + ["MANIFEST.json"])
    assert sorted(p.name for p in model_folder.iterdir()) == before, "the user's folder must stay untouched"
    model = manifest["Model"]
    assert manifest["Model Archive Version"]
    assert manifest["Engine"] == {"Name": "MXNet", "Version": "1.9.1"}
    assert model["Model Name"] == "digits"
    assert model["Symbol"] == "digits-mlp-symbol.json"
    assert model["Parameters"] == "digits-mlp-0000.params"
    assert model["Signature"] == "signature.json"
    assert model["Service"] == "mxnet_vision_service"
    assert model["Model Format"] == "MXNet-Symbolic"


def test_output_folder_overwrite_and_force(model_folder, tmp_path):
    out = tmp_path / "out"
    assert export("--model-name", "d", "--model-path", model_folder, "--output", out, cwd=tmp_path).returncode == 0
    again = export("--model-name", "d", "--model-path", model_folder, "--output", out, cwd=tmp_path)
    assert_refused(again, "--force")
    assert export("--model-name", "d", "--model-path", model_folder, "--output", out, "--force", cwd=tmp_path).returncode == 0


def test_stock_service_file_is_recorded(model_folder, tmp_path):
    result = export("--model-name", "d", "--model-path", model_folder, "--service-file-path", "mxnet_model_service.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "d.model") as zipped:
        assert json.loads(zipped.read("MANIFEST.json"))["Model"]["Service"] == "mxnet_model_service"


def signature(**changes):
    value = json.loads((SOURCE / "signature.json").read_text())
    value.update(changes)
    return json.dumps(value)


@pytest.mark.parametrize(
    "change,fragments",
    [
        (lambda f: (f / "signature.json").unlink(), ["signature.json"]),
        (lambda f: shutil.copy(f / "digits-mlp-symbol.json", f / "other-symbol.json"), ["2 symbol files", "exactly one"]),
        (lambda f: (f / "digits-mlp-0000.params").unlink(), ["parameters file"]),
        (lambda f: (f / "signature.json").write_text(signature(inputs=[{"data_name": "data", "data_shape": [0, 1, "8", 8]}])), ["signature.json", "data_shape"]),
        (lambda f: (f / "signature.json").write_text(signature(input_type="image/gif")), ["signature.json", "image/gif"]),
        (lambda f: (f / "signature.json").write_text("{oops"), ["signature.json", "JSON"]),
        (lambda f: (f / "digits-mlp-0000.params").write_bytes(b"not the magic number at all"), ["digits-mlp-0000.params", "magic"]),
        (lambda f: (f / "digits-mlp-symbol.json").write_text("nope"), ["digits-mlp-symbol.json"]),
        (lambda f: (f / "signature.json").write_text(signature(inputs=[{"data_name": "x", "data_shape": [0, 1, 8, 8]}])), ["'x'", "not an input"]),
        (lambda f: [p.unlink() for p in f.iterdir()], ["signature.json"]),
    ],
    ids=["no-signature", "two-symbols", "no-params", "bad-shape", "unknown-mime", "signature-not-json", "params-not-mxnet",
         "symbol-not-json", "input-not-in-symbol", "empty-folder"],
)
def test_refusals_name_the_file_and_the_problem(model_folder, tmp_path, change, fragments):
    change(model_folder)
    result = export("--model-name", "d", "--model-path", model_folder, cwd=tmp_path)
    assert_refused(result, *fragments)
    assert not (tmp_path / "d.model").exists()


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["--model-name", "d", "--model-path", EXAMPLES / "digits-mlp.model"], "is a file"),
        (["--model-name", "d", "--model-path", "/no/such/folder"], "no such folder"),
        (["--model-name", ".d", "--model-path", SOURCE], "not a valid model name"),
        (["--model-name", "a/b", "--model-path", SOURCE], "not a valid model name"),
        (["--model-name", "d", "--model-path", SOURCE, "--service-file-path", "my_service.py"], "my_service.py: no such file"),
        (["--model-name", "d", "--model-path", SOURCE, "--service-file-path", "service.txt"], "a Python file with a custom service"),
    ],
)
def test_refused_arguments(tmp_path, args, fragment):
    result = export(*args, cwd=tmp_path)
    assert_refused(result, fragment)
    assert not list(tmp_path.glob("*.model")), list(tmp_path.iterdir())
