"""`MXNetBaseService`, the class the seed's custom services extend (`from
dms.mxnet_model_service import MXNetBaseService`). It serves ONNX models too: the base name is
historical, the model runs in whichever engine the server picked for it."""

from dms.model_service import SingleNodeService


class MXNetBaseService(SingleNodeService):
    """Override `_preprocess(data)` (one entry per signature input: the bytes of an image input,
    the parsed value of a JSON input; return one array per input, MXNet NDArray or numpy, of any
    numeric type) and `_postprocess(data)` (the outputs as MXNet NDArrays, this request's rows;
    return what the client gets under "prediction")."""

    def _postprocess(self, data):
        return [output.asnumpy().tolist() for output in data]
