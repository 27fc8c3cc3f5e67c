import DMSCore
import Foundation
import Logging
import Testing

@testable import DMSONNX

/// The root of this target's suites, with what they share.
///
/// The tests need the real library: they find it as the server does, through
/// `DMS_ONNXRUNTIME_LIBRARY` or `.runtime/lib/libonnxruntime.so`.
@Suite
struct ONNXTests {
    static let logger = Logger(label: "dms.onnx.tests")
    static let engine = ONNXEngine(libraryCandidates: ONNXEngine.defaultLibraryCandidates(), logger: logger)

    /// A model made by `make_models.py`.
    static func model(_ fileName: String) -> URL {
        Bundle.module.url(forResource: "models", withExtension: nil)!.appendingPathComponent(fileName)
    }

    static func library() throws(DMSError) -> ONNXRuntimeLibrary {
        try ONNXRuntimeLibrary.load(candidates: ONNXEngine.defaultLibraryCandidates(), logger: logger)
    }

    static func signature(inputs: [ModelSignature.TensorSpec], outputs: [ModelSignature.TensorSpec]) -> ModelSignature {
        try! ModelSignature(inputs: inputs, inputType: .json, outputs: outputs, outputType: .json)
    }

    static func load(_ fileName: String, _ signature: ModelSignature) throws(DMSError) -> any ModelPredictor {
        let url = model(fileName)
        return try engine.load(
            ModelArtifacts(directory: url.deletingLastPathComponent(), signature: signature, engineFiles: ONNXFormat.files(model: url), labels: nil, manifestService: nil))
    }

    /// Expects `body` to fail with `code` and a message that contains every fragment.
    static func expectError(_ code: DMSError.Code, _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected an error mentioning \(fragments)", sourceLocation: sourceLocation)
        } catch let error as DMSError {
            #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
            for fragment in fragments {
                #expect(error.message.contains(fragment), "\(error.message)", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("expected a DMSError, got \(error)", sourceLocation: sourceLocation)
        }
    }
}
