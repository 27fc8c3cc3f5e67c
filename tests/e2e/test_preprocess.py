"""The declarative pipeline of signature.json: `preprocess` per image input (colour order, resize,
centre crop, scale, mean and std, layout, interpolation) shown by echo models (the output is the
input tensor, flattened) against the same steps in MXNet's Python and numpy; `postprocess`
(softmax, top_k, labels, outputs) on the bundled digits model; and the load errors of every
kind of mistake."""

import json
import os
import shutil

os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")

import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import requests  # noqa: E402

from conftest import EXAMPLES, IMAGES, assert_failed_start  # noqa: E402

IMAGE_FILES = sorted(p.name for p in IMAGES.iterdir())
MEAN = [0.406, 0.456, 0.485]
STD = [0.225, 0.224, 0.229]

# name -> (input data_shape, preprocess block)
ECHO_MODELS = {
    # torchvision-style: shorter side, centre crop, 0-1 values normalized; BGR and NHWC as some
    # converted models want.
    "bgr-nhwc": ([0, 24, 24, 3], {
        "color": "BGR", "resize": {"shorter_side": 28}, "center_crop": {"height": 24, "width": 24},
        "scale": 1 / 255, "mean": MEAN, "std": STD, "layout": "NHWC",
    }),
    "gray-crop": ([0, 1, 20, 16], {
        "resize": {"height": 30, "width": 26}, "center_crop": {"height": 20, "width": 16}, "mean": [100], "std": [50],
    }),
    "rgb-bilinear": ([0, 3, 24, 20], {"interpolation": "bilinear"}),
    "rgb-area": ([0, 3, 24, 20], {"interpolation": "area"}),
    "gray-area-crop": ([0, 1, 12, 12], {"interpolation": "area", "resize": {"shorter_side": 12}, "center_crop": {"height": 12, "width": 12}}),
}


def write_echo(folder, shape, preprocess):
    """An MXNet model whose output is its input, flattened, with the given image signature."""
    folder.mkdir(parents=True)
    mx.sym.flatten(mx.sym.var("data"), name="echo").save(str(folder / "echo-symbol.json"))
    mx.nd.save(str(folder / "echo-0000.params"), {})
    signature = {
        "inputs": [{"data_name": "data", "data_shape": shape, "preprocess": preprocess}], "input_type": "image/jpeg",
        "outputs": [{"data_name": "echo_output", "data_shape": [0, int(np.prod(shape[1:]))]}], "output_type": "application/json",
    }
    (folder / "signature.json").write_text(json.dumps(signature, indent=2))
    return folder


@pytest.fixture(scope="module")
def echo_server(start_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("preprocess")
    models = [f"{name}={write_echo(root / name, shape, block)}" for name, (shape, block) in ECHO_MODELS.items()]
    server = start_server("--service", "mxnet_model_service", "--models", *models)
    yield server
    assert server.stop() == 0, server.output


def served_tensor(server, model, image):
    image_bytes = (IMAGES / image).read_bytes()
    response = requests.post(f"{server.url}/{model}/predict", files={"input0": (image, image_bytes)}, timeout=60)
    assert response.status_code == 200, response.text
    [output] = response.json()["prediction"]
    return image_bytes, np.array(output["data"], dtype=np.float32)


def decode(image_bytes, gray):
    return mx.img.imdecode(image_bytes, flag=0 if gray else 1, to_rgb=True)


def resize_short(image, length, interp):
    """mx.image.resize_short's sizes (rounded down), with an explicit interpolation."""
    height, width = image.shape[:2]
    new_h, new_w = (length * height // width, length) if height > width else (length, length * width // height)
    return mx.img.imresize(image, new_w, new_h, interp)


def normalize(pixels, scale, mean, std):
    """(pixel x scale - mean) / std in float32, per channel, in the same order of operations."""
    values = pixels.astype(np.float32) * np.float32(scale)
    return (values - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)


@pytest.mark.parametrize("image", IMAGE_FILES)
def test_bgr_nhwc_normalized_matches_mxnet_and_numpy_exactly(echo_server, image):
    image_bytes, served = served_tensor(echo_server, "bgr-nhwc", image)
    resized = resize_short(decode(image_bytes, gray=False), 28, 2)
    cropped, _ = mx.img.center_crop(resized, (24, 24))
    bgr = cropped.asnumpy()[:, :, ::-1]
    expected = normalize(bgr, 1 / 255, MEAN, STD).reshape(-1)
    assert np.array_equal(served, expected), f"{int((served != expected).sum())} of {expected.size} values differ"


@pytest.mark.parametrize("image", IMAGE_FILES)
def test_gray_resize_then_crop_matches_exactly(echo_server, image):
    image_bytes, served = served_tensor(echo_server, "gray-crop", image)
    resized = mx.img.imresize(decode(image_bytes, gray=True), 26, 30, 2)
    cropped, _ = mx.img.center_crop(resized, (16, 20))
    expected = normalize(cropped.asnumpy(), 1, [100], [50]).transpose(2, 0, 1).reshape(-1)
    assert np.array_equal(served, expected), f"{int((served != expected).sum())} of {expected.size} values differ"


@pytest.mark.parametrize("model,interp", [("rgb-bilinear", 1), ("rgb-area", 3)])
@pytest.mark.parametrize("image", IMAGE_FILES)
def test_bilinear_and_area_are_opencvs_within_one_level(echo_server, model, interp, image):
    image_bytes, served = served_tensor(echo_server, model, image)
    expected = mx.img.imresize(decode(image_bytes, gray=False), 20, 24, interp).asnumpy().astype(np.float32).transpose(2, 0, 1).reshape(-1)
    difference = np.abs(served - expected)
    assert difference.max() <= 1, f"{int((difference > 1).sum())} of {expected.size} values differ by more than one level"


@pytest.mark.parametrize("image", IMAGE_FILES)
def test_area_shorter_side_and_crop_within_one_level(echo_server, image):
    image_bytes, served = served_tensor(echo_server, "gray-area-crop", image)
    cropped, _ = mx.img.center_crop(resize_short(decode(image_bytes, gray=True), 12, 3), (12, 12))
    expected = cropped.asnumpy().astype(np.float32).transpose(2, 0, 1).reshape(-1)
    assert np.abs(served - expected).max() <= 1


def digits_with_postprocess(tmp_path, postprocess, name="digits"):
    folder = tmp_path / name
    shutil.copytree(EXAMPLES / "digits-mlp", folder)
    signature = json.loads((folder / "signature.json").read_text())
    signature["postprocess"] = postprocess
    (folder / "signature.json").write_text(json.dumps(signature))
    return folder


def test_postprocess_chooses_k_labels_and_the_softmax(start_server, tmp_path):
    labels = [f"digit {i}" for i in range(10)]
    folders = {
        "top2": digits_with_postprocess(tmp_path, {"top_k": 2, "labels": labels}, "top2"),
        "raw": digits_with_postprocess(tmp_path, {"softmax": False, "top_k": 10}, "raw"),
        "again": digits_with_postprocess(tmp_path, {"softmax": True, "top_k": 10}, "again"),
        "seed": EXAMPLES / "digits-mlp",
    }
    server = start_server("--models", *[f"{name}={folder}" for name, folder in folders.items()])
    image = (EXAMPLES / "samples").glob("*.png").__next__().read_bytes()

    def predict(model):
        response = requests.post(f"{server.url}/{model}/predict", files={"input0": ("digit.png", image)}, timeout=60)
        assert response.status_code == 200, response.text
        [row] = response.json()["prediction"]
        return row

    seed = predict("seed")
    assert len(seed) == 5
    top2 = predict("top2")
    assert [entry["class"] for entry in top2] == [f"digit {seed[0]['class']}", f"digit {seed[1]['class']}"]
    assert [entry["probability"] for entry in top2] == [entry["probability"] for entry in seed[:2]]
    # The digits network ends in a softmax: "never" reports its outputs as they are, "always"
    # applies one more, which flattens them.
    raw = predict("raw")
    assert len(raw) == 10 and raw[0]["probability"] == seed[0]["probability"]
    assert abs(sum(entry["probability"] for entry in raw) - 1) < 1e-5
    again = predict("again")
    expected = np.exp(np.array([entry["probability"] for entry in raw], dtype=np.float64))
    assert abs(again[0]["probability"] - expected[0] / expected.sum()) < 1e-5
    assert server.stop() == 0, server.output


def test_postprocess_outputs_select_tensors(start_server, test_models):
    """add-mul returns `sum` and `product`; the signature can report only `product`."""
    folder = test_models["add-mul"].parent / "add-mul-product"
    shutil.rmtree(folder, ignore_errors=True)
    import zipfile
    with zipfile.ZipFile(test_models["add-mul"]) as archive:
        archive.extractall(folder)
    signature = json.loads((folder / "signature.json").read_text())
    signature["postprocess"] = {"outputs": ["product"]}
    (folder / "signature.json").write_text(json.dumps(signature))
    (folder / "MANIFEST.json").unlink()
    server = start_server("--models", f"m={folder}")
    response = requests.post(f"{server.url}/m/predict", json={"a": [[1, 2, 3, 4]], "b": [[2, 2, 2, 2]]}, timeout=60)
    assert response.status_code == 200, response.text
    assert [(o["name"], o["data"]) for o in response.json()["prediction"]] == [("product", [2, 4, 6, 8])]
    assert server.stop() == 0, server.output


@pytest.mark.parametrize(
    "preprocess,fragments",
    [
        ({"colour": "BGR"}, ["inputs[0].preprocess has an unknown field 'colour'", "color, resize"]),
        ({"color": "HSV"}, ["inputs[0].preprocess.color must be one of \"RGB\", \"BGR\", \"gray\"", "\"HSV\""]),
        ({"color": "RGB"}, ["color \"RGB\" gives 3 channel(s)", "has 1"]),
        ({"mean": [1, 2, 3]}, ["preprocess.mean needs one value per channel (1)"]),
        ({"std": [0]}, ["preprocess.std values must be positive"]),
        ({"resize": {"shorter_side": 10}}, ["keeps the image's aspect", "center_crop"]),
        ({"center_crop": {"height": 4, "width": 4}}, ["give 4×4", "takes 8×8"]),
        ({"resize": {"height": 6, "width": 6}, "center_crop": {"height": 8, "width": 8}}, ["center_crop 8×8 is larger than the resized image 6×6"]),
        ({"interpolation": "lanczos"}, ["interpolation must be one of \"bicubic\", \"bilinear\", \"area\""]),
        ({"layout": "NHWC"}, ["data_shape must have 1 or 3 channels", "NHWC"]),
        ({"scale": "1/255"}, ["preprocess.scale must be a number"]),
    ],
)
def test_preprocess_mistakes_are_load_errors(start_server, tmp_path, preprocess, fragments):
    folder = tmp_path / "digits"
    shutil.copytree(EXAMPLES / "digits-mlp", folder)
    signature = json.loads((folder / "signature.json").read_text())
    signature["inputs"][0]["preprocess"] = preprocess
    (folder / "signature.json").write_text(json.dumps(signature))
    server = start_server("--models", f"digits={folder}", wait=False)
    assert_failed_start(server, "digits", "signature.json", *fragments)


@pytest.mark.parametrize(
    "postprocess,fragments",
    [
        ({"top-k": 3}, ["postprocess has an unknown field 'top-k'"]),
        ({"top_k": 0}, ["postprocess.top_k must be a whole number of at least 1"]),
        ({"softmax": "yes"}, ["postprocess.softmax must be true, false or \"auto\""]),
        ({"outputs": ["nope"]}, ["postprocess.outputs names 'nope'", "softmax_output"]),
        ({"labels": "synset.txt"}, ["postprocess.labels must be a non-empty list of strings"]),
    ],
)
def test_postprocess_mistakes_are_load_errors(start_server, tmp_path, postprocess, fragments):
    server = start_server("--models", f"digits={digits_with_postprocess(tmp_path, postprocess)}", wait=False)
    assert_failed_start(server, "digits", "signature.json", *fragments)


def test_classification_settings_on_the_tensor_service_are_refused(start_server, tmp_path):
    folder = digits_with_postprocess(tmp_path, {"top_k": 3})
    server = start_server("--service", "mxnet_model_service", "--models", f"digits={folder}", wait=False)
    assert_failed_start(server, "postprocess.softmax, top_k and labels", "mxnet_model_service")


NORMALIZED = EXAMPLES / "digits-normalized"
DIGIT_SAMPLES = sorted((EXAMPLES / "samples").glob("digit-*-*.png"))


def test_a_model_trained_on_normalized_pixels_needs_only_its_signature(start_server):
    """examples/digits-normalized (examples/train_digits_normalized.py) sees (pixel / 255 - mean) / std;
    its signature's preprocess block makes the server feed exactly that: the classes are right and
    the probabilities are MXNet's Python's on the same normalized tensor."""
    block = json.loads((NORMALIZED / "signature.json").read_text())["inputs"][0]["preprocess"]
    server = start_server("--models", f"normalized={NORMALIZED}")
    net = mx.gluon.SymbolBlock.imports(
        str(NORMALIZED / "digits-normalized-symbol.json"), ["data"], str(NORMALIZED / "digits-normalized-0000.params"))
    for sample in DIGIT_SAMPLES:
        label = sample.name.split("-")[1]
        files = {"input0": (sample.name, sample.read_bytes())}
        [top] = requests.post(f"{server.url}/normalized/predict", files=files, timeout=60).json()["prediction"]
        assert top[0]["class"] == label
        pixels = mx.img.imresize(decode(sample.read_bytes(), gray=True), 8, 8, 2).asnumpy().transpose(2, 0, 1)[np.newaxis]
        expected = net(mx.nd.array(normalize(pixels, block["scale"], block["mean"], block["std"]))).asnumpy()[0]
        assert abs(top[0]["probability"] - float(expected[int(label)])) < 1e-6
    assert server.stop() == 0, server.output
