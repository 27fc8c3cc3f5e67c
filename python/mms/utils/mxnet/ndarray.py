from dms.mxnet_utils.ndarray import top_probability  # noqa: F401
