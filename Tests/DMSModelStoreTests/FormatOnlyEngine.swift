import DMSCore
import DMSMXNet
import DMSONNX

/// An engine that only recognises files, for the tests of locating models: it has a real
/// engine's format (MXNet's and ONNX Runtime's need no engine library) and answers a fixed
/// signature when asked to read one from a model, since these tests' `.onnx` files are not
/// models. It never loads or runs a model.
struct FormatOnlyEngine: InferenceEngine {
    var format: any ModelFormat
    var selfDescribedSignature: ModelSignature?

    var name: String { "files of \(format.name)" }

    func library() throws(DMSError) -> EngineLibrary { EngineLibrary(version: "0", path: "/nonexistent") }

    func load(_ artifacts: ModelArtifacts, maxBatchSize: Int) throws(DMSError) -> any ModelPredictor {
        throw DMSError(.internalError, "these tests load no model")
    }

    func signature(of files: ModelArtifacts.EngineFiles) throws(DMSError) -> ModelSignature {
        guard let selfDescribedSignature else { throw DMSError(.invalidModel, "this test gives no signature for the model") }
        return selfDescribedSignature
    }

    /// The server's formats in the server's order; ONNX models describe themselves as
    /// `onnxSignature`.
    static func serverFormats(onnxSignature: ModelSignature? = nil) -> [any InferenceEngine] {
        [FormatOnlyEngine(format: MXNetFormat()), FormatOnlyEngine(format: ONNXFormat(), selfDescribedSignature: onnxSignature)]
    }
}
