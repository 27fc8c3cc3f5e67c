import DMSCore
import Testing

@testable import DMSONNX

extension ONNXTests {
    /// Outputs of real ONNX Runtime runs, compared exactly with values worked out by hand (and
    /// checked against onnxruntime's Python API).
    @Suite("predictions")
    struct PredictionTests {
        @Test func affineModelAtSeveralBatchSizes() throws {
            let predictor = try ONNXTests.load(
                "affine.onnx", ONNXTests.signature(inputs: [.init(name: "x", shape: [0, 3])], outputs: [.init(name: "y", shape: [0, 3])]))
            let one = try predictor.predict([Tensor(shape: [1, 3], floats: [0, 1, -2.5])])
            #expect(one == [Tensor(shape: [1, 3], floats: [1, 3, -4])])
            let three = try predictor.predict([Tensor(shape: [3, 3], floats: [0, 1, -2.5, 3.25, 1e6, -0.125, 7, 8, 9])])
            #expect(three == [Tensor(shape: [3, 3], floats: [1, 3, -4, 7.5, 2_000_001, 0.75, 15, 17, 19])])
            #expect(predictor.description == PredictorDescription(outputNames: ["y"], outputActivation: .undetermined))
        }

        @Test func twoInputsAndTwoOutputsOfDifferentTypes() throws {
            let predictor = try ONNXTests.load(
                "two_inputs.onnx",
                ONNXTests.signature(
                    inputs: [.init(name: "a", shape: [0, 2]), .init(name: "b", shape: [0, 2], dataType: .int64)],
                    outputs: [.init(name: "sum", shape: [0, 2]), .init(name: "doubled", shape: [0, 2], dataType: .int64)]))
            let outputs = try predictor.predict([
                Tensor(shape: [2, 2], floats: [0.5, -1.5, 2, 3]), Tensor(.int64, [2, 2], [1, -2, 3_000_000_000, -4] as [Int64]),
            ])
            #expect(outputs == [Tensor(shape: [2, 2], floats: [1.5, -3.5, 3e9, -1]), Tensor(.int64, [2, 2], [2, -4, 6_000_000_000, -8] as [Int64])])
        }

        @Test func inputsInAnotherOrderAndOutputsInTheSignaturesOrder() throws {
            let predictor = try ONNXTests.load(
                "two_inputs.onnx",
                ONNXTests.signature(
                    inputs: [.init(name: "b", shape: [0, 2], dataType: .int64), .init(name: "a", shape: [0, 2])],
                    outputs: [.init(name: "doubled", shape: [0, 2], dataType: .int64)]))
            let outputs = try predictor.predict([Tensor(.int64, [1, 2], [7, -7] as [Int64]), Tensor(shape: [1, 2], floats: [0, 0])])
            #expect(outputs == [Tensor(.int64, [1, 2], [14, -14] as [Int64])])
            #expect(predictor.description.outputNames == ["doubled"])
        }

        @Test func int64AndBoolOutputs() throws {
            let predictor = try ONNXTests.load(
                "int64_bool_outputs.onnx",
                ONNXTests.signature(
                    inputs: [.init(name: "x", shape: [0, 4])],
                    outputs: [.init(name: "argmax", shape: [0], dataType: .int64), .init(name: "positive", shape: [0, 4], dataType: .bool)]))
            let outputs = try predictor.predict([Tensor(shape: [2, 4], floats: [1, -2, 3, 0, -1, -0.5, -3, -4])])
            #expect(outputs == [Tensor(.int64, [2], [2, 1] as [Int64]), Tensor(.bool, [2, 4], [true, false, true, false, false, false, false, false])])
        }

        @Test func float16AndUInt8() throws {
            let predictor = try ONNXTests.load(
                "float16_uint8.onnx",
                ONNXTests.signature(
                    inputs: [.init(name: "h", shape: [0, 3], dataType: .float16), .init(name: "u", shape: [0, 3], dataType: .uint8)],
                    outputs: [.init(name: "h2", shape: [0, 3], dataType: .float16), .init(name: "u1", shape: [0, 3], dataType: .uint8)]))
            let outputs = try predictor.predict([
                Tensor(.float16, [1, 3], [0.1, -1.5, 32752] as [Float16]), Tensor(.uint8, [1, 3], [0, 7, 255] as [UInt8]),
            ])
            // 0.1 is 0.0999755859375 in FP16; doubling is exact. 255 + 1 wraps to 0.
            #expect(outputs[0].values(as: Float16.self) == [0.199951171875, -3, 65504])
            #expect(outputs == [Tensor(.float16, [1, 3], [0.199951171875, -3, 65504] as [Float16]), Tensor(.uint8, [1, 3], [1, 8, 0] as [UInt8])])
        }

        @Test func everyOtherDataType() throws {
            let names = ["d", "i8", "i16", "i32", "flag"]
            let types: [DataType] = [.float64, .int8, .int16, .int32, .bool]
            let predictor = try ONNXTests.load(
                "every_type.onnx",
                ONNXTests.signature(
                    inputs: zip(names, types).map { .init(name: $0, shape: [0, 2], dataType: $1) },
                    outputs: zip(names, types).map { .init(name: $0 == "flag" ? "not_flag" : "neg_\($0)", shape: [0, 2], dataType: $1) }))
            let outputs = try predictor.predict([
                Tensor(.float64, [1, 2], [1.5, -2.25] as [Double]), Tensor(.int8, [1, 2], [-128, 5] as [Int8]),
                Tensor(.int16, [1, 2], [-32768, 300] as [Int16]), Tensor(.int32, [1, 2], [Int32.min, 70000] as [Int32]),
                Tensor(.bool, [1, 2], [true, false]),
            ])
            #expect(
                outputs == [
                    Tensor(.float64, [1, 2], [-1.5, 2.25] as [Double]), Tensor(.int8, [1, 2], [-128, -5] as [Int8]),
                    Tensor(.int16, [1, 2], [-32768, -300] as [Int16]), Tensor(.int32, [1, 2], [Int32.min, -70000] as [Int32]),
                    Tensor(.bool, [1, 2], [false, true]),
                ])
        }

        @Test func everyDataTypeMapsToItsONNXElementType() {
            // ONNXTensorElementDataType in onnxruntime_c_api.h.
            let expected: [DataType: Int32] = [
                .float32: 1, .uint8: 2, .int8: 3, .int16: 5, .int32: 6, .int64: 7, .bool: 9, .float16: 10, .float64: 11,
            ]
            for type in DataType.allCases {
                #expect(type.onnxElementType == expected[type])
                #expect(DataType(onnxElementType: type.onnxElementType) == type)
            }
            #expect(DataType(onnxElementType: 8) == nil)
            #expect(DataType.onnxElementTypeName(8) == "STRING")
            #expect(DataType.onnxElementTypeName(1) == "FP32")
        }

        @Test func refusesInputsOfTheWrongTypeOrShape() throws {
            let predictor = try ONNXTests.load(
                "affine.onnx", ONNXTests.signature(inputs: [.init(name: "x", shape: [0, 0])], outputs: [.init(name: "y", shape: [0, 3])]))
            ONNXTests.expectError(.invalidInput, ["input 'x' must be FP32, got INT32"]) {
                _ = try predictor.predict([Tensor(.int32, [1, 3], [1, 2, 3] as [Int32])])
            }
            ONNXTests.expectError(.invalidInput, ["input 'x' has shape [1, 4]", "[N, 3]"]) {
                _ = try predictor.predict([Tensor(shape: [1, 4], floats: [1, 2, 3, 4])])
            }
            ONNXTests.expectError(.invalidInput, ["takes 1 input(s), got 2"]) {
                _ = try predictor.predict([Tensor(shape: [1, 3], floats: [1, 2, 3]), Tensor(shape: [1, 3], floats: [1, 2, 3])])
            }
        }
    }
}
