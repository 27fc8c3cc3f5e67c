import DMSCore
import Foundation
import Testing

@testable import DMSONNX

extension ONNXTests {
    /// Loading checks the signature against the model and refuses files ONNX Runtime cannot read.
    @Suite("loading and signature checks")
    struct SignatureCheckTests {
        private static let a = ModelSignature.TensorSpec(name: "a", shape: [0, 2])
        private static let b = ModelSignature.TensorSpec(name: "b", shape: [0, 2], dataType: .int64)
        private static let sum = ModelSignature.TensorSpec(name: "sum", shape: [0, 2])

        private func expectRefusal(_ fragments: [String], inputs: [ModelSignature.TensorSpec], outputs: [ModelSignature.TensorSpec] = [sum]) {
            ONNXTests.expectError(.invalidModel, fragments) {
                _ = try ONNXTests.load("two_inputs.onnx", ONNXTests.signature(inputs: inputs, outputs: outputs))
            }
        }

        @Test func acceptsFixedSizesWhereTheModelIsDynamic() throws {
            _ = try ONNXTests.load("two_inputs.onnx", ONNXTests.signature(inputs: [.init(name: "a", shape: [4, 2]), Self.b], outputs: [Self.sum]))
            _ = try ONNXTests.load("two_inputs.onnx", ONNXTests.signature(inputs: [.init(name: "a", shape: [-1, 0]), Self.b], outputs: [Self.sum]))
        }

        @Test func refusesAnInputTheModelDoesNotHave() {
            expectRefusal(["signature.json: input 'pixels' is not an input of two_inputs.onnx (its inputs: a, b)"], inputs: [Self.a, Self.b, .init(name: "pixels", shape: [0, 2])])
            expectRefusal(["input 'pixels' is not an input"], inputs: [.init(name: "pixels", shape: [0, 2]), Self.b])
        }

        @Test func refusesASignatureThatLeavesOutAModelInput() {
            expectRefusal(["signature.json does not declare input 'b' of two_inputs.onnx"], inputs: [Self.a])
        }

        @Test func refusesTheWrongElementType() {
            expectRefusal(["signature.json: input 'b' is declared FP32 but two_inputs.onnx has INT64"], inputs: [Self.a, .init(name: "b", shape: [0, 2])])
            expectRefusal(
                ["signature.json: output 'doubled' is declared INT32 but two_inputs.onnx has INT64"], inputs: [Self.a, Self.b],
                outputs: [.init(name: "doubled", shape: [0, 2], dataType: .int32)])
        }

        @Test func refusesDimensionsThatDisagree() {
            expectRefusal(["signature.json: input 'a' is declared [0, 3] but two_inputs.onnx has [N, 2]"], inputs: [.init(name: "a", shape: [0, 3]), Self.b])
            expectRefusal(["input 'a' is declared [0, 2, 1]"], inputs: [.init(name: "a", shape: [0, 2, 1]), Self.b])
            expectRefusal(["output 'sum' is declared [0, 5]"], inputs: [Self.a, Self.b], outputs: [.init(name: "sum", shape: [0, 5])])
        }

        @Test func refusesAnOutputTheModelDoesNotHave() {
            expectRefusal(
                ["signature.json: output 'softmax' is not an output of two_inputs.onnx (its outputs: sum, doubled)"], inputs: [Self.a, Self.b],
                outputs: [.init(name: "softmax", shape: [0, 2])])
        }

        @Test func refusesAFileThatIsNotONNXWithONNXRuntimesMessage() throws {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dms-onnx-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let file = folder.appendingPathComponent("model.onnx")
            try Data("PK\u{3}\u{4} a zip, not a model".utf8).write(to: file)
            let artifacts = ModelArtifacts(
                directory: folder, signature: ONNXTests.signature(inputs: [Self.a], outputs: [Self.sum]), engineFiles: ONNXFormat.files(model: file), labels: nil,
                manifestService: nil)
            ONNXTests.expectError(.invalidModel, ["model.onnx: ONNX Runtime cannot load the model", "Protobuf parsing failed", "ORT_INVALID_PROTOBUF"]) {
                _ = try ONNXTests.engine.load(artifacts)
            }
            ONNXTests.expectError(.invalidModel, ["missing.onnx", "File doesn't exist", "ORT_NO_SUCHFILE"]) {
                _ = try ONNXEngine.readSignature(of: folder.appendingPathComponent("missing.onnx"), logger: ONNXTests.logger)
            }
        }

        @Test func loadsOnlyONNXFiles() {
            let url = URL(fileURLWithPath: "/nowhere/m-symbol.json")
            #expect(ONNXTests.engine.canLoad(ONNXFormat.files(model: url)))
            #expect(!ONNXTests.engine.canLoad(.init(format: "MXNet-Symbolic", files: ["Symbol": url, "Parameters": url])))
            #expect(ONNXTests.engine.name == "ONNX Runtime")
        }
    }
}
