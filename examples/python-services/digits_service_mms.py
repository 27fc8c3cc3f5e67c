"""The same service written against the released seed-era package's module paths (`mms.*`),
extending its vision service and overriding `__init__` in the seed README's form.

    deep-model-server --models digits=examples/digits-mlp.model --service examples/python-services/digits_service_mms.py
"""

import mxnet as mx
from mms.model_service.mxnet_vision_service import MXNetVisionService
from mms.utils.mxnet import ndarray


class DigitsService(MXNetVisionService):
    def __init__(self, path, synset=None, ctx=mx.cpu()):
        super().__init__(path, synset, ctx)
        self.top = 5

    def _postprocess(self, data):
        return [ndarray.top_probability(d, self.labels, top=self.top) for d in data]
