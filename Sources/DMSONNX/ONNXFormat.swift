import DMSCore
import Foundation

/// ONNX models: one `NAME.onnx` file holding the graph and its weights, recorded in manifests as
/// `Model File`. An ONNX model describes its own inputs and outputs, and a bare `.onnx` file may
/// be served as it is.
public struct ONNXFormat: ModelFormat {
    public static let modelRole = "Model File"

    public init() {}

    public var name: String { "ONNX" }
    public var fileRoles: [String] { [Self.modelRole] }
    public var expectedFiles: String { "one NAME.onnx (ONNX Runtime)" }
    public var describesItself: Bool { true }
    public var singleFileExtension: String? { "onnx" }

    /// A folder is ONNX's when its manifest names a model file or when it holds `*.onnx` files;
    /// without a manifest name there must be exactly one.
    public func locate(in folder: URL, names: [String], manifestNames: [String: String]) throws(DMSError) -> ModelArtifacts.EngineFiles? {
        let modelName: String
        if let named = manifestNames[Self.modelRole] {
            guard names.contains(named) else { throw DMSError(.invalidModel, "the model has no '\(named)'") }
            modelName = named
        } else {
            guard names.contains(where: { $0.hasSuffix(".onnx") }) else { return nil }
            modelName = try singleName(in: names, suffix: ".onnx", what: "ONNX model")
        }
        return Self.files(model: folder.appendingPathComponent(modelName))
    }

    /// The engine files of an ONNX model.
    public static func files(model: URL) -> ModelArtifacts.EngineFiles {
        ModelArtifacts.EngineFiles(format: ONNXFormat().name, files: [modelRole: model])
    }
}
