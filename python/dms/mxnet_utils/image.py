"""Image helpers for services, with the seed's names: images are MXNet NDArrays, height x width x
channels, uint8 until normalized."""

import mxnet as mx


def read(data, flag=1):
    """Decodes JPEG or PNG bytes (RGB with flag 1, gray with flag 0)."""
    return mx.img.imdecode(bytes(data), flag=flag, to_rgb=True)


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
