import DMSCore
import Foundation
import Testing

@testable import DMSONNX

extension ONNXTests {
    /// What ONNX Runtime reports about a model's inputs and outputs (SessionGetInputCount and
    /// OutputCount, the names, the type infos, CastTypeInfoToTensorInfo, GetTensorElementType,
    /// GetDimensionsCount, GetDimensions and GetSymbolicDimensions).
    @Suite("model metadata")
    struct MetadataTests {
        @Test func readsNamesTypesAndDynamicDimensions() throws {
            let session = try ONNXSession(library: ONNXTests.library(), model: ONNXTests.model("two_inputs.onnx"), intraOpThreadCount: 1)
            #expect(
                session.inputs == [
                    ONNXTensorInfo(name: "a", elementType: 1, dimensions: [-1, 2], dimensionNames: ["N", ""]),
                    ONNXTensorInfo(name: "b", elementType: 7, dimensions: [-1, 2], dimensionNames: ["N", ""]),
                ])
            #expect(
                session.outputs == [
                    ONNXTensorInfo(name: "sum", elementType: 1, dimensions: [-1, 2], dimensionNames: ["N", ""]),
                    ONNXTensorInfo(name: "doubled", elementType: 7, dimensions: [-1, 2], dimensionNames: ["N", ""]),
                ])
            #expect(session.inputs[0].shape == [-1, 2])
            #expect(session.inputs[0].shapeDescription == "[N, 2]")
        }

        @Test func readsEveryElementType() throws {
            let session = try ONNXSession(library: ONNXTests.library(), model: ONNXTests.model("every_type.onnx"), intraOpThreadCount: 1)
            #expect(session.inputs.map(\.name) == ["d", "i8", "i16", "i32", "flag"])
            #expect(session.inputs.map(\.dataType) == [.float64, .int8, .int16, .int32, .bool])
            #expect(session.outputs.map(\.name) == ["neg_d", "neg_i8", "neg_i16", "neg_i32", "not_flag"])
            let halves = try ONNXSession(library: ONNXTests.library(), model: ONNXTests.model("float16_uint8.onnx"), intraOpThreadCount: 1)
            #expect(halves.inputs.map(\.elementType) == [10, 2])
            let strings = try ONNXSession(library: ONNXTests.library(), model: ONNXTests.model("string_input.onnx"), intraOpThreadCount: 1)
            #expect(strings.inputs.map(\.elementType) == [8])
        }

        @Test func readsTheSignatureOfABareModel() throws {
            let signature = try ONNXEngine.readSignature(of: ONNXTests.model("int64_bool_outputs.onnx"), logger: ONNXTests.logger)
            #expect(
                signature
                    == ONNXTests.signature(
                        inputs: [.init(name: "x", shape: [0, 4])],
                        outputs: [.init(name: "argmax", shape: [0], dataType: .int64), .init(name: "positive", shape: [0, 4], dataType: .bool)]))
            #expect(signature.inputType == .json && signature.outputType == .json)
            let other = try ONNXEngine.readSignature(of: ONNXTests.model("float16_uint8.onnx"), logger: ONNXTests.logger)
            #expect(other.inputs == [.init(name: "h", shape: [0, 3], dataType: .float16), .init(name: "u", shape: [0, 3], dataType: .uint8)])
        }

        @Test func aSignatureReadFromTheModelLoadsIt() throws {
            let url = ONNXTests.model("every_type.onnx")
            let signature = try ONNXTests.engine.signature(of: ONNXFormat.files(model: url))
            #expect(signature == (try ONNXEngine.readSignature(of: url, logger: ONNXTests.logger)))
            let predictor = try ONNXTests.load("every_type.onnx", signature)
            #expect(predictor.description.outputNames == ["neg_d", "neg_i8", "neg_i16", "neg_i32", "not_flag"])
        }

        @Test func refusesModelsWithTensorsDMSCannotHold() {
            ONNXTests.expectError(.invalidModel, ["MXNet-Symbolic files have no 'Model File'"]) {
                let url = ONNXTests.model("affine.onnx")
                _ = try ONNXTests.engine.signature(of: .init(format: "MXNet-Symbolic", files: ["Symbol": url, "Parameters": url]))
            }
            ONNXTests.expectError(.invalidModel, ["string_input.onnx: input 'text' holds STRING elements", "FP32"]) {
                _ = try ONNXEngine.readSignature(of: ONNXTests.model("string_input.onnx"), logger: ONNXTests.logger)
            }
            ONNXTests.expectError(.invalidModel, ["sequence_input.onnx: input 'items' is not a tensor"]) {
                _ = try ONNXEngine.readSignature(of: ONNXTests.model("sequence_input.onnx"), logger: ONNXTests.logger)
            }
        }
    }
}
