"""Image helpers for services, with the seed's names: images are MXNet NDArrays, height x width x
channels, uint8 until normalized."""

import base64
import io

import mxnet as mx
import numpy as np


def read(data, flag=1):
    """Decodes JPEG or PNG bytes (RGB with flag 1, gray with flag 0)."""
    return mx.img.imdecode(bytes(data), flag=flag, to_rgb=True)


def write(img_arr, flag=1, format="jpeg", dim_order="CHW"):
    """Encodes an image (uint8 values; CHW or HWC as `dim_order` says; colour with flag 1, gray
    with flag 0) as JPEG or PNG and returns it as a base64 string, as the seed's helper did."""
    from PIL import Image

    array = img_arr.asnumpy() if hasattr(img_arr, "asnumpy") else np.asarray(img_arr)
    array = np.clip(np.rint(array), 0, 255).astype(np.uint8)
    if dim_order == "CHW":
        array = array.transpose(1, 2, 0)
    if flag == 0 or array.shape[2] == 1:
        image = Image.fromarray(array[:, :, 0], mode="L")
    else:
        image = Image.fromarray(array, mode="RGB")
    encoded = io.BytesIO()
    image.save(encoded, format=format.upper())
    return base64.b64encode(encoded.getvalue()).decode()


def resize(src, new_width, new_height, interp=2):
    """Resizes to new_width x new_height (interp 2: bicubic, as the seed's services did)."""
    return mx.img.imresize(src, new_width, new_height, interp=interp)


def fixed_crop(src, x0, y0, w, h, size=None, interp=2):
    """The w x h window at (x0, y0), resized to `size` (width, height) when given."""
    return mx.img.fixed_crop(src, x0, y0, w, h, size, interp)


def color_normalize(src, mean, std=None):
    """(src - mean) / std, as floats."""
    return mx.img.color_normalize(src.astype("float32"), mx.nd.array(mean), None if std is None else mx.nd.array(std))


def transform_shape(img_arr, dim_order="NCHW"):
    """Height x width x channels to a batch of one in `dim_order` (NCHW or NHWC)."""
    if dim_order == "NCHW":
        img_arr = mx.nd.transpose(img_arr, (2, 0, 1))
    return mx.nd.expand_dims(img_arr, axis=0)
