from dms.mxnet_vision_service import MXNetVisionService  # noqa: F401
