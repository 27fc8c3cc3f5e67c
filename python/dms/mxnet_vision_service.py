"""`MXNetVisionService`, the seed's service for image classifiers: each image input decoded,
resized to the signature's height and width, NCHW; the top 5 classes of each output."""

from dms.mxnet_model_service import MXNetBaseService
from dms.mxnet_utils import image, ndarray


class MXNetVisionService(MXNetBaseService):
    def _preprocess(self, data):
        images = []
        for index, img in enumerate(data):
            _, channels, height, width = self.signature["inputs"][index]["data_shape"]
            img_arr = image.read(img, flag=1 if channels == 3 else 0)
            img_arr = image.resize(img_arr, width, height)
            images.append(image.transform_shape(img_arr))
        return images

    def _postprocess(self, data):
        return [ndarray.top_probability(output, self.labels, top=5) for output in data]
