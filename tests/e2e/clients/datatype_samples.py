"""One small [1, 2] array of each datatype the engines take, with values at the types' edges:
the `types` model's inputs (an Identity per datatype), shared by the REST test in the tests' venv
and the gRPC case in the clients' venv (numpy only, so both can import it)."""

import numpy as np

ARRAYS = {
    "FP16": np.array([[-2.25, 65504]], dtype=np.float16), "FP32": np.array([[0.1, -3e38]], dtype=np.float32),
    "FP64": np.array([[1e-300, 2.5]], dtype=np.float64), "INT8": np.array([[-128, 127]], dtype=np.int8),
    "INT16": np.array([[-32768, 12345]], dtype=np.int16), "INT32": np.array([[-(2**31), 2**31 - 1]], dtype=np.int32),
    "INT64": np.array([[-(2**62), 2**40]], dtype=np.int64), "UINT8": np.array([[0, 255]], dtype=np.uint8),
    "BOOL": np.array([[True, False]], dtype=np.bool_),
}
