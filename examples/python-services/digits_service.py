"""The seed README's Resnet18Service pattern, for the bundled digits model, written against the
seed README's imports (`dms.*`): decode, resize to the signature's size, NCHW; the top 5 classes.

    deep-model-server --models digits=examples/digits-mlp.model --service examples/python-services/digits_service.py

It answers exactly what the built-in vision service answers (tests/e2e/test_python_service.py).
"""

import mxnet as mx
from dms.mxnet_utils import image, ndarray
from dms.mxnet_model_service import MXNetBaseService


class DigitsService(MXNetBaseService):
    def _preprocess(self, data):
        images = []
        for index, img in enumerate(data):
            _, channels, height, width = self.signature["inputs"][index]["data_shape"]
            img_arr = image.read(img, flag=1 if channels == 3 else 0)
            img_arr = image.resize(img_arr, width, height)
            images.append(image.transform_shape(img_arr))
        return images

    def _postprocess(self, data):
        return [ndarray.top_probability(d, self.labels, top=5) for d in data]
