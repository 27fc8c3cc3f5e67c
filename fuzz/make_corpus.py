#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/TARGET/ (small, valid-looking
inputs the fuzzer mutates from). Run with the project's venv (it needs Pillow):

    .runtime/venv/bin/python fuzz/make_corpus.py

Each input starts with the selector bytes its target reads first (see fuzz/Targets), then the
payload. The files are committed; rerunning rewrites them identically.
"""
import base64
import gzip
import io
import json
import pathlib
import struct
import zipfile
import zlib

from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent
CORPUS = ROOT / "corpus"
REPOSITORY = ROOT.parent
DATA_TYPES = ["FP32", "FP16", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "BOOL"]


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def image(kind, size=(9, 7), mode="RGB"):
    picture = Image.new(mode, size)
    for x in range(size[0]):
        for y in range(size[1]):
            value = (x * 29 + y * 13) % 256
            picture.putpixel((x, y), value if mode in ("L", "P") else (value, 255 - value, (value * 7) % 256)[: len(mode)])
    out = io.BytesIO()
    picture.save(out, format=kind, **({"quality": 90} if kind == "JPEG" else {}))
    return out.getvalue()


JPEG = image("JPEG")
PNG = image("PNG")
GRAY_PNG = image("PNG", (5, 11), "L")
PALETTE_PNG = image("PNG", (6, 6), "P")
PROGRESSIVE = io.BytesIO()
Image.open(io.BytesIO(JPEG)).save(PROGRESSIVE, format="JPEG", progressive=True)
PROGRESSIVE = PROGRESSIVE.getvalue()


def multipart(fields, boundary="dmsfuzz"):
    body = b""
    for name, value, filename in fields:
        body += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"Content-Disposition: {disposition}\r\n".encode()
        if filename:
            body += b"Content-Type: application/octet-stream\r\n"
        body += b"\r\n" + value + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


# predict-body: [content type] [signature] body. Content types: 0 multipart, 1 JSON, 2 image,
# 3 none; signatures: 0 RGB 8x8, 1 gray NHWC cropped, 2 gray 40x24, 3 FP32+INT64, 4 BOOL+UINT8+FP16.
write("predict-body", "multipart-jpeg", bytes([0, 0]) + multipart([("input0", JPEG, "digit.jpg")]))
write("predict-body", "multipart-base64", bytes([0, 1]) + multipart([("data", base64.b64encode(PNG), None)]))
write("predict-body", "json-two-inputs", bytes([1, 3]) + json.dumps({"a": [[1.5, -2]], "b": [[1, 2, 3]]}).encode())
write("predict-body", "json-array", bytes([1, 3]) + b"[[1, 2]]")
write("predict-body", "json-narrow-types", bytes([1, 4]) + json.dumps(
    {"flags": [[[True, False], [False, True]]], "bytes": [[1, 2, 3, 255]], "half": [[0.5, 65504]]}).encode())
write("predict-body", "bare-png", bytes([2, 2]) + GRAY_PNG)
write("predict-body", "data-uri", bytes([1, 0]) + json.dumps({"input0": "data:image/jpeg;base64," + base64.b64encode(JPEG).decode()}).encode())

# tensor-json: [data type] [rank] [dimensions…] JSON.
write("tensor-json", "fp32-2x3", bytes([0, 2, 2, 3]) + b"[[1, 2.5, -3], [4e3, 5, 6]]")
write("tensor-json", "int8-flat", bytes([3, 1, 4]) + b"[-128, 0, 1, 127]")
write("tensor-json", "bool", bytes([8, 2, 1, 2]) + b"[[true, false]]")
write("tensor-json", "fp16-nested", bytes([1, 3, 1, 2, 2]) + b"[[[0.5, 1], [65504, -0.0]]]")
write("tensor-json", "uint8-scalars", bytes([7, 1, 3]) + b"[0, 128, 255]")
write("tensor-json", "int64-large", bytes([6, 1, 2]) + b"[9223372036854775807, -9223372036854775808]")

# v2-rest: [mode] [header length, 2 bytes when mode has bit 1 and not bit 2] body.
V2_JSON = {"id": "1", "inputs": [
    {"name": "a", "shape": [1, 2], "datatype": "FP32", "data": [1, 2]},
    {"name": "b", "shape": [1, 3], "datatype": "INT64", "data": [[1, 2, 3]]}], "outputs": [{"name": "sum"}]}
write("v2-rest", "json", bytes([0]) + json.dumps(V2_JSON).encode())
binary_header = json.dumps({"inputs": [
    {"name": "a", "shape": [1, 2], "datatype": "FP32", "parameters": {"binary_data_size": 8}},
    {"name": "b", "shape": [1, 3], "datatype": "INT64", "parameters": {"binary_data_size": 24}}],
    "parameters": {"binary_data_output": True}}).encode()
write("v2-rest", "binary", bytes([2]) + struct.pack("<H", len(binary_header)) + binary_header
      + struct.pack("<2f", 1, 2) + struct.pack("<3q", 1, 2, 3))
bytes_header = json.dumps({"inputs": [{"name": "data", "shape": [1], "datatype": "BYTES", "parameters": {"binary_data_size": 4 + len(JPEG)}}]}).encode()
write("v2-rest", "bytes-image", bytes([2]) + struct.pack("<H", len(bytes_header)) + bytes_header + struct.pack("<I", len(JPEG)) + JPEG)
write("v2-rest", "json-bytes", bytes([0]) + json.dumps({"inputs": [
    {"name": "gray", "shape": [1], "datatype": "BYTES", "data": [base64.b64encode(PNG).decode()]}], "parameters": {"timeout": 1000}}).encode())
write("v2-rest", "repository", bytes([1]) + b'{"ready": true}')


# grpc-infer: a serialized ModelInferRequest (field numbers of the protocol's proto).
def varint(value):
    out = b""
    while True:
        low = value & 0x7F
        value >>= 7
        out += bytes([low | (0x80 if value else 0)])
        if not value:
            return out


def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def packed(number, values, fmt=None):
    body = b"".join(struct.pack(fmt, v) for v in values) if fmt else b"".join(varint(v & (2**64 - 1)) for v in values)
    return field(number, body)


def tensor(name, datatype, shape, contents=b""):
    return field(5, field(1, name.encode()) + field(2, datatype.encode()) + packed(3, shape) + (field(5, contents) if contents else b""))


write("grpc-infer", "raw", field(1, b"simple") + tensor("a", "FP32", [1, 2]) + tensor("b", "INT64", [1, 3])
      + field(6, field(1, b"sum")) + field(7, struct.pack("<2f", 1, 2)) + field(7, struct.pack("<3q", 1, 2, 3)))
write("grpc-infer", "typed", field(1, b"simple") + tensor("a", "FP32", [1, 2], packed(6, [1.5, 2], "<f"))
      + tensor("b", "INT64", [1, 3], packed(3, [1, 2, 3])))
write("grpc-infer", "narrow-typed", field(1, b"narrow") + tensor("flags", "BOOL", [1, 2, 2], packed(1, [1, 0, 0, 1]))
      + tensor("bytes", "UINT8", [1, 4], packed(4, [1, 2, 3, 255])) + tensor("half", "FP16", [1, 2]))
write("grpc-infer", "bytes-image", field(1, b"digits") + tensor("data", "BYTES", [1], field(8, JPEG)))
write("grpc-infer", "timeout", field(1, b"simple") + field(4, field(1, b"timeout") + field(2, varint(2 << 3) + varint(1000)))
      + tensor("a", "FP32", [1, 2], packed(6, [1, 2], "<f")))

# raw-tensor: [data type] [rank] [dimensions…, 9 = -1] raw bytes. Data type 9 is BYTES.
write("raw-tensor", "fp32", bytes([0, 2, 1, 2]) + struct.pack("<2f", 1, 2))
write("raw-tensor", "bytes-items", bytes([9, 1, 2]) + struct.pack("<I", 3) + b"abc" + struct.pack("<I", 0))
write("raw-tensor", "int16", bytes([4, 1, 3]) + struct.pack("<3h", -1, 0, 1))
write("raw-tensor", "dynamic-dimension", bytes([5, 2, 9, 2]) + struct.pack("<4i", 1, 2, 3, 4))

# signature: signature.json documents from the examples and the pipeline's options.
for folder in ["digits-mlp", "digits-cnn", "digits-normalized", "text-topics"]:
    path = REPOSITORY / "examples" / folder / "signature.json"
    if path.exists():
        write("signature", folder, path.read_bytes())
write("signature", "preprocess-everything", json.dumps({
    "inputs": [{"data_name": "image", "data_shape": [0, 224, 224, 3], "data_type": "FP32", "preprocess": {
        "layout": "NHWC", "color": "BGR", "resize": {"shorter_side": 256}, "center_crop": {"height": 224, "width": 224},
        "interpolation": "bilinear", "scale": 0.0039, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}}],
    "input_type": "image/jpeg",
    "outputs": [{"data_name": "probabilities", "data_shape": [0, 1000]}, {"data_name": "features", "data_shape": [0, 512]}],
    "output_type": "application/json",
    "postprocess": {"softmax": "auto", "top_k": 3, "outputs": ["probabilities"]}}))

# manifest: seed-era and exported MANIFEST.json documents.
write("manifest", "seed-era", json.dumps({"Model-Archive-Version": "0.1", "Model": {
    "Symbol": "resnet-18-symbol.json", "Parameters": "resnet-18-0000.params", "Signature": "signature.json",
    "Service": "mxnet_vision_service.py", "Model-Name": "resnet-18"}}))
write("manifest", "exported-onnx", json.dumps({"Model": {"Model Format": "onnx", "ONNX": "model.onnx", "Signature": "signature.json"}}))
write("manifest", "no-model", b'{"Engine": {"MXNet": "1.9.1"}}')


# archive: small .model archives (zip) of MXNet and ONNX models.
def archive(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in files:
            zipped.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


SIGNATURE = (REPOSITORY / "examples" / "digits-mlp" / "signature.json").read_bytes()
write("archive", "mxnet", archive([("signature.json", SIGNATURE), ("tiny-symbol.json", b'{"nodes": [], "heads": []}'),
                                   ("tiny-0000.params", b"\x12\x01" + bytes(14)), ("synset.txt", b"zero\none\n")]))
write("archive", "manifest-in-folder", archive([
    ("tiny/MANIFEST.json", json.dumps({"Model": {"Symbol": "tiny-symbol.json", "Parameters": "tiny-0000.params", "Signature": "signature.json"}})),
    ("tiny/signature.json", SIGNATURE), ("tiny/tiny-symbol.json", b"{}"), ("tiny/tiny-0000.params", bytes(16))]))
write("archive", "onnx", archive([("model.onnx", (REPOSITORY / "Tests/DMSONNXTests/Resources/models/affine.onnx").read_bytes())]))

# image: [signature: 0 RGB 8x8, 1 gray NHWC cropped, 2 gray 40x24] image bytes or base64 text.
write("image", "jpeg", bytes([0]) + JPEG)
write("image", "png", bytes([1]) + PNG)
write("image", "gray-png", bytes([2]) + GRAY_PNG)
write("image", "palette-png", bytes([0]) + PALETTE_PNG)
write("image", "progressive-jpeg", bytes([2]) + PROGRESSIVE)
write("image", "base64", bytes([1]) + base64.b64encode(JPEG))

# model-sources: [kind: 0 location, 1 s3 location, 2 credentials file, 3 environment, 4 S3 error] text.
write("model-sources", "https", bytes([0]) + b"https://example.com/models/resnet-18.model")
write("model-sources", "relative-path", bytes([0]) + b"../models/digits.model")
write("model-sources", "allow-list", bytes([0]) + b"s3://bucket/models/x.model")
write("model-sources", "s3-endpoint", bytes([1]) + b"s3://[::1]:9000/bucket/key/with spaces.model")
write("model-sources", "s3-plain", bytes([1]) + b"s3://bucket/a/b.model")
write("model-sources", "credentials", bytes([2]) + b"[default]\naws_access_key_id = AKID\naws_secret_access_key = secret\n\n[profile other]\nregion=eu-west-1\n")
write("model-sources", "environment", bytes([3]) + b"AWS_ACCESS_KEY_ID=AKID\nAWS_SECRET_ACCESS_KEY=secret\nAWS_REGION=eu-west-1\nDMS_S3_ENDPOINT=http://127.0.0.1:9000")
write("model-sources", "s3-error", bytes([4]) + b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The key does not exist</Message></Error>")

# command-line: [kind: 0 --models, 1 per-model setting, 2 rotation, 3 log level, 4 bearer] text
# (arguments separated by NUL).
write("command-line", "models", bytes([0]) + b"resnet=resnet.model\0digits=https://example.com/d.model squeezenet=s3://b/k")
write("command-line", "settings", bytes([1]) + b"2\0a=3\0b=c=4")
write("command-line", "rotation", bytes([2]) + b"30 M")
write("command-line", "weekly", bytes([2]) + b"W6")
write("command-line", "log-level", bytes([3]) + b"warning")
write("command-line", "bearer", bytes([4]) + b"Bearer c2VjcmV0LXRva2Vu")


# python-frame: a frame as a worker sends it: lengths, JSON header, payload.
def frame(header, payload=b""):
    header = json.dumps(header).encode()
    return struct.pack("<IQ", len(header), len(payload)) + header + payload


write("python-frame", "tensors", frame({"op": "preprocess", "tensors": [
    {"datatype": "FP32", "shape": [1, 2], "offset": 0, "length": 8}, {"datatype": "UINT8", "shape": [3], "offset": 8, "length": 3}]},
    struct.pack("<2f", 1, 2) + b"abc"))
write("python-frame", "response", frame({"op": "postprocess", "response": {"offset": 0, "length": 13}}, b'{"answer": 1}'))
write("python-frame", "error", frame({"op": "error", "kind": "input", "message": "bad input", "traceback": "..."}))


# content-encoding: [encoding: 0 gzip, 1 deflate] [limit - 1, 2 bytes little-endian] compressed body.
def content_encoding(encoding, limit, stream):
    return bytes([encoding]) + struct.pack("<H", limit - 1) + stream


TENSOR_BODY = json.dumps({"inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3, 4]}]}).encode()
write("content-encoding", "gzip", content_encoding(0, 4096, gzip.compress(TENSOR_BODY, mtime=0)))
write("content-encoding", "gzip-members", content_encoding(0, 4096, gzip.compress(b"ab", mtime=0) + gzip.compress(b"cd", mtime=0)))
write("content-encoding", "zlib", content_encoding(1, 4096, zlib.compress(TENSOR_BODY)))
raw = zlib.compressobj(wbits=-15)
write("content-encoding", "raw-deflate", content_encoding(1, 4096, raw.compress(TENSOR_BODY) + raw.flush()))
write("content-encoding", "over-the-limit", content_encoding(0, 512, gzip.compress(bytes(4096), mtime=0)))
