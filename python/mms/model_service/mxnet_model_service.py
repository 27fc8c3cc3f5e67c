from dms.mxnet_model_service import MXNetBaseService  # noqa: F401
