"""A worker process running one custom service for the server: `python -m dms.worker`.

The server starts it with the socket of its channel as file descriptor 3 (`DMS_CHANNEL_FD`),
sends `load` once, then one `preprocess` or `postprocess` at a time (or, for a service that
overrides `_inference` and so runs the model itself, one `inference` per request), and reads one
answer per frame (see `dms.channel`). Standard output and error stay the server's: a service's prints and
the tracebacks of its failures appear in the server's output.
"""

import importlib.util
import inspect
import json
import os
import socket
import sys
import traceback

import mxnet as mx  # imported at start (a second or more), not by the first request
import numpy as np

from dms import channel, model_service
from dms.errors import InvalidInput

# Signature data types (KServe v2 names) and their numpy types.
DTYPES = {
    "FP16": np.float16, "FP32": np.float32, "FP64": np.float64, "INT8": np.int8, "INT16": np.int16,
    "INT32": np.int32, "INT64": np.int64, "UINT8": np.uint8, "BOOL": np.bool_,
}
NAMES = {np.dtype(value): key for key, value in DTYPES.items()}


class LoadError(Exception):
    """The service file cannot be used; the message says where and why."""


def load_service_class(path):
    """The one class in the file at `path` that extends the base service, defined in that file."""
    name = "dms_custom_service"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise LoadError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        raise LoadError(f"{os.path.basename(path)}, line {error.lineno}: {error.msg}") from error
    except Exception as error:
        frame = traceback.extract_tb(error.__traceback__)[-1]
        raise LoadError(f"{os.path.basename(frame.filename)}, line {frame.lineno}: {type(error).__name__}: {error}") from error
    candidates = [
        value for value in vars(module).values()
        if inspect.isclass(value) and issubclass(value, model_service.ModelService) and value.__module__ == name
    ]
    if not candidates:
        raise LoadError(f"{os.path.basename(path)} defines no class that extends MXNetBaseService (or ModelService)")
    # A class that another candidate extends is a base of the service, not the service.
    leaves = [cls for cls in candidates if not any(other is not cls and issubclass(other, cls) for other in candidates)]
    if len(leaves) > 1:
        raise LoadError(f"{os.path.basename(path)} defines several service classes ({', '.join(sorted(c.__name__ for c in leaves))}); keep one")
    return leaves[0]


def create_service(cls, model):
    """An instance of `cls` for `model`, whichever of the seed's `__init__` forms it takes."""
    model_service._loading = model
    parameters = list(inspect.signature(cls.__init__).parameters)[1:]
    if parameters and parameters[0] == "path":
        return cls(model["directory"])
    return cls(model["name"], model["directory"], model.get("manifest") or {}, None)


def request_inputs(header, payload, signature):
    """One entry per signature input: the bytes of an image input, the parsed JSON of others."""
    is_image = signature.get("input_type") == "image/jpeg"
    data = []
    for part in header["parts"]:
        raw = bytes(channel.blob(payload, part))
        if is_image:
            data.append(raw)
        else:
            try:
                data.append(json.loads(raw))
            except ValueError as error:
                raise InvalidInput(f"{part['name']}: not valid JSON ({error})") from error
    return data


def as_array(value, spec, index):
    """`value` (an MXNet NDArray, a numpy array or nested lists) as a numpy array of the input's type."""
    if hasattr(value, "asnumpy"):
        value = value.asnumpy()
    dtype = DTYPES.get(spec.get("data_type", "FP32").upper(), np.float32)
    try:
        return np.ascontiguousarray(np.asarray(value), dtype=dtype)
    except (TypeError, ValueError) as error:
        raise TypeError(f"_preprocess returned for input {index} ('{spec['data_name']}') something that is not a numeric array: {error}") from error


def json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "asnumpy"):
        return value.asnumpy().tolist()
    raise TypeError(f"_postprocess returned a {type(value).__name__}, which JSON cannot hold")


class Worker:
    def __init__(self, sock):
        self.sock = sock
        self.reader = channel.FrameReader(sock)
        self.service = None
        self.signature = {}

    def reply_error(self, kind, error):
        """Answers with the error; a service's failure carries its traceback for the server's log."""
        message = str(error) or type(error).__name__
        header = {"op": "error", "kind": kind, "message": message}
        if kind == "service":
            header["traceback"] = traceback.format_exc()
        channel.FrameWriter().send(self.sock, header)

    def load(self, header):
        cls = load_service_class(header["service_file"])
        self.signature = header["model"].get("signature") or {}
        self.service = create_service(cls, header["model"])
        runs_inference = cls._inference is not model_service.ModelService._inference
        channel.FrameWriter().send(self.sock, {"op": "loaded", "service": cls.__name__, "runs_inference": runs_inference})

    def inference(self, header, payload):
        """The whole request in the service: `_postprocess(_inference(_preprocess(data)))`."""
        prediction = self.service.inference(request_inputs(header, payload, self.signature))
        writer = channel.FrameWriter()
        response = writer.add(json.dumps({"prediction": prediction}, default=json_default, allow_nan=False, separators=(",", ":")).encode())
        writer.send(self.sock, {"op": "response", "response": response})

    def preprocess(self, header, payload):
        data = request_inputs(header, payload, self.signature)
        arrays = self.service._preprocess(data)
        specs = self.signature.get("inputs", [])
        if not isinstance(arrays, (list, tuple)):
            arrays = [arrays]
        if len(arrays) != len(specs):
            raise TypeError(f"_preprocess returned {len(arrays)} arrays for {len(specs)} signature inputs")
        writer = channel.FrameWriter()
        tensors = []
        for index, (value, spec) in enumerate(zip(arrays, specs)):
            array = as_array(value, spec, index)
            tensors.append(dict(writer.add(array.reshape(-1).view(np.uint8)), datatype=NAMES[array.dtype], shape=list(array.shape)))
        writer.send(self.sock, {"op": "inputs", "tensors": tensors})

    def postprocess(self, header, payload):
        outputs = []
        for tensor in header["tensors"]:
            # Copied into the NDArray: the payload's buffer is reused for the next frame.
            array = np.frombuffer(channel.blob(payload, tensor), dtype=DTYPES[tensor["datatype"]]).reshape(tensor["shape"])
            outputs.append(mx.nd.array(array, dtype=array.dtype))
        prediction = self.service._postprocess(outputs)
        writer = channel.FrameWriter()
        response = writer.add(json.dumps({"prediction": prediction}, default=json_default, allow_nan=False, separators=(",", ":")).encode())
        writer.send(self.sock, {"op": "response", "response": response})

    def serve(self):
        handlers = {"preprocess": self.preprocess, "postprocess": self.postprocess, "inference": self.inference}
        while True:
            try:
                header, payload = self.reader.receive()
            except channel.ChannelClosed:
                return
            op = header.get("op")
            try:
                if op == "load":
                    self.load(header)
                elif op in handlers and self.service is not None:
                    handlers[op](header, payload)
                else:
                    raise RuntimeError(f"unexpected frame '{op}'")
            except LoadError as error:
                self.reply_error("load", error)
            except InvalidInput as error:
                self.reply_error("input", error)
            except Exception as error:  # noqa: BLE001 - every failure of a service is reported, never fatal
                self.reply_error("service", f"{type(error).__name__}: {error}" if op != "load" else error)


def main():
    sock = socket.socket(fileno=int(os.environ.get("DMS_CHANNEL_FD", "3")))
    Worker(sock).serve()


if __name__ == "__main__":
    main()
