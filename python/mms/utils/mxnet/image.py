from dms.mxnet_utils.image import color_normalize, fixed_crop, read, resize, transform_shape, write  # noqa: F401
