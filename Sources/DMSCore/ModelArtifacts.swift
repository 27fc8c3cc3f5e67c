import Foundation

/// The files of one unpacked model, located and checked by the model store, handed to an engine.
public struct ModelArtifacts: Sendable {
    /// The files that hold the network and its weights, by their roles in the format of the
    /// engine that reads them (see `ModelFormat`).
    public struct EngineFiles: Sendable, Equatable {
        /// The format's name, as `MANIFEST.json` records it under `Model Format` ("MXNet-Symbolic",
        /// "ONNX"); it tells which engine reads the files.
        public var format: String
        /// The files by role, the role names being the `MANIFEST.json` keys that name them
        /// ("Symbol", "Parameters", "Model File").
        public var files: [String: URL]

        public init(format: String, files: [String: URL]) {
            self.format = format
            self.files = files
        }

        /// The file of `role`, or an `.invalidModel` error when these files have none (files of
        /// another format handed to the wrong engine).
        public func file(_ role: String) throws(DMSError) -> URL {
            guard let url = files[role] else {
                throw DMSError(.invalidModel, "not a model of the expected format: these \(format) files have no '\(role)'")
            }
            return url
        }
    }

    /// The folder the archive was unpacked to.
    public var directory: URL
    public var signature: ModelSignature
    public var engineFiles: EngineFiles
    /// Class labels, one per line of `synset.txt`, when the archive has one.
    public var labels: [String]?
    /// The name of the service the archive's manifest asks for, if any (for example
    /// `mxnet_vision_service`).
    public var manifestService: String?

    public init(directory: URL, signature: ModelSignature, engineFiles: EngineFiles, labels: [String]?, manifestService: String?) {
        self.directory = directory
        self.signature = signature
        self.engineFiles = engineFiles
        self.labels = labels
        self.manifestService = manifestService
    }
}
