"""The seed's service classes: `ModelService`, `SingleNodeService` and the base a custom service
extends, `MXNetBaseService` (in `dms.mxnet_model_service`).

A request runs `inference(data)`: `_preprocess` turns the request's inputs into one array per
signature input, `_inference` runs the model, `_postprocess` turns this request's outputs into
what the client gets under "prediction". In this server the model itself runs in the server's
native engine (with its batching and queue): the base `_inference` is a placeholder the worker
never calls. A service that overrides `_inference` runs the model itself: the server then hands it
whole requests, and its engine does not run them.
"""

import json
import os

# What the worker tells the service it is about to create: the model's name, folder, signature
# and labels, for the base classes to read whatever form of `__init__` a service uses.
_loading = {}


class ModelService:
    """The root of every service: a model's name, folder, signature and labels."""

    def __init__(self, *args, **kwargs):
        model = dict(_loading)
        # The seed's two forms: (path, synset=None, ctx=mx.cpu()) in its README, and
        # (model_name, model_dir, manifest, gpu=None) in its 0.1.x releases.
        if "model_dir" in kwargs or (len(args) >= 3 and isinstance(args[2], dict)):
            names = ("model_name", "model_dir", "manifest", "gpu")
            given = dict(zip(names, args), **kwargs)
            model.setdefault("name", given.get("model_name"))
            model.setdefault("directory", given.get("model_dir"))
            self.manifest = given.get("manifest") or {}
        else:
            names = ("path", "synset", "ctx")
            given = dict(zip(names, args), **kwargs)
            model.setdefault("directory", given.get("path"))
            self.manifest = {}
        self.model_name = model.get("name")
        self.model_dir = model.get("directory")
        self.signature = model.get("signature") or self._read_json("signature.json")
        labels = model.get("labels")
        self.labels = labels if labels is not None else self._read_labels()

    def _read_json(self, name):
        path = os.path.join(self.model_dir or "", name)
        if not os.path.exists(path):
            return {}
        with open(path) as file:
            return json.load(file)

    def _read_labels(self):
        path = os.path.join(self.model_dir or "", "synset.txt")
        if not os.path.exists(path):
            return []
        with open(path) as file:
            return [line.rstrip("\n") for line in file]

    def ping(self):
        return None

    def inference(self, data):
        return self._postprocess(self._inference(self._preprocess(data)))

    def _preprocess(self, data):
        return data

    def _inference(self, data):
        raise NotImplementedError("the model runs in the server's engine; _inference is only called when a service overrides it")

    def _postprocess(self, data):
        return data


class SingleNodeService(ModelService):
    """A service that runs one model on one node, as the seed's services all did."""
