"""Writes the small ONNX models the DMSONNX tests run (each well under 100 KB).

Usage: python make_models.py OUTPUT_FOLDER

Needs `onnx` (tested with onnx 1.23.2 and numpy 1.23.5). The models are built node by node, so
the same onnx version writes the same bytes. Every batch dimension is the symbolic `N`.

- affine.onnx:            x FP32 [N, 3] -> y = x * 2 + 1 FP32 [N, 3]
- two_inputs.onnx:        a FP32 [N, 2], b INT64 [N, 2] -> sum = a + float(b) FP32, doubled = b * 2 INT64
- int64_bool_outputs.onnx: x FP32 [N, 4] -> argmax INT64 [N] (over axis 1), positive = x > 0 BOOL [N, 4]
- float16_uint8.onnx:     h FP16 [N, 3], u UINT8 [N, 3] -> h2 = h * 2 FP16, u1 = u + 1 UINT8 (wraps at 256)
- every_type.onnx:        d FP64, i8 INT8, i16 INT16, i32 INT32, flag BOOL, each [N, 2]
                          -> the negation of each number (-d, -i8, -i16, -i32) and not flag
- sequence_input.onnx:    items, a sequence of FP32 tensors -> count INT64 [] (not a tensor input: refused)
- string_input.onnx:      text STRING [N] -> same STRING [N] (an element type DMS has no data type for)
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8


def tensor(name, element_type, shape):
    return helper.make_tensor_value_info(name, element_type, shape)


def constant(name, value):
    return numpy_helper.from_array(np.array(value), name)


def save(graph, folder, file_name):
    model = helper.make_model(graph, producer_name="dms-onnx-tests", opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    path = os.path.join(folder, file_name)
    onnx.save(model, path)
    size = os.path.getsize(path)
    assert size < 100_000, f"{file_name} is {size} bytes"
    print(f"{path}: {size} bytes")


def affine():
    return helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["twice"]), helper.make_node("Add", ["twice", "one"], ["y"])],
        "affine",
        [tensor("x", TensorProto.FLOAT, ["N", 3])],
        [tensor("y", TensorProto.FLOAT, ["N", 3])],
        initializer=[constant("two", np.float32(2)), constant("one", np.float32(1))],
    )


def two_inputs():
    return helper.make_graph(
        [
            helper.make_node("Cast", ["b"], ["b_float"], to=TensorProto.FLOAT),
            helper.make_node("Add", ["a", "b_float"], ["sum"]),
            helper.make_node("Mul", ["b", "two"], ["doubled"]),
        ],
        "two_inputs",
        [tensor("a", TensorProto.FLOAT, ["N", 2]), tensor("b", TensorProto.INT64, ["N", 2])],
        [tensor("sum", TensorProto.FLOAT, ["N", 2]), tensor("doubled", TensorProto.INT64, ["N", 2])],
        initializer=[constant("two", np.int64(2))],
    )


def int64_bool_outputs():
    return helper.make_graph(
        [
            helper.make_node("ArgMax", ["x"], ["argmax"], axis=1, keepdims=0),
            helper.make_node("Greater", ["x", "zero"], ["positive"]),
        ],
        "int64_bool_outputs",
        [tensor("x", TensorProto.FLOAT, ["N", 4])],
        [tensor("argmax", TensorProto.INT64, ["N"]), tensor("positive", TensorProto.BOOL, ["N", 4])],
        initializer=[constant("zero", np.float32(0))],
    )


def float16_uint8():
    return helper.make_graph(
        [helper.make_node("Mul", ["h", "two"], ["h2"]), helper.make_node("Add", ["u", "one"], ["u1"])],
        "float16_uint8",
        [tensor("h", TensorProto.FLOAT16, ["N", 3]), tensor("u", TensorProto.UINT8, ["N", 3])],
        [tensor("h2", TensorProto.FLOAT16, ["N", 3]), tensor("u1", TensorProto.UINT8, ["N", 3])],
        initializer=[constant("two", np.float16(2)), constant("one", np.uint8(1))],
    )


def every_type():
    numbers = [("d", TensorProto.DOUBLE), ("i8", TensorProto.INT8), ("i16", TensorProto.INT16), ("i32", TensorProto.INT32)]
    nodes = [helper.make_node("Neg", [name], [f"neg_{name}"]) for name, _ in numbers]
    nodes.append(helper.make_node("Not", ["flag"], ["not_flag"]))
    return helper.make_graph(
        nodes,
        "every_type",
        [tensor(name, element_type, ["N", 2]) for name, element_type in numbers] + [tensor("flag", TensorProto.BOOL, ["N", 2])],
        [tensor(f"neg_{name}", element_type, ["N", 2]) for name, element_type in numbers]
        + [tensor("not_flag", TensorProto.BOOL, ["N", 2])],
    )


def sequence_input():
    return helper.make_graph(
        [helper.make_node("SequenceLength", ["items"], ["count"])],
        "sequence_input",
        [helper.make_tensor_sequence_value_info("items", TensorProto.FLOAT, None)],
        [tensor("count", TensorProto.INT64, [])],
    )


def string_input():
    return helper.make_graph(
        [helper.make_node("Identity", ["text"], ["same"])],
        "string_input",
        [tensor("text", TensorProto.STRING, ["N"])],
        [tensor("same", TensorProto.STRING, ["N"])],
    )


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_models.py OUTPUT_FOLDER")
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    save(affine(), folder, "affine.onnx")
    save(two_inputs(), folder, "two_inputs.onnx")
    save(int64_bool_outputs(), folder, "int64_bool_outputs.onnx")
    save(float16_uint8(), folder, "float16_uint8.onnx")
    save(every_type(), folder, "every_type.onnx")
    save(sequence_input(), folder, "sequence_input.onnx")
    save(string_input(), folder, "string_input.onnx")


if __name__ == "__main__":
    main()
