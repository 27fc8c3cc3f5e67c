import Foundation

/// The files of one unpacked model, located and checked by the runtime, handed to an engine.
public struct ModelArtifacts: Sendable {
    /// The engine-specific files that hold the network and its weights.
    public enum EngineFiles: Sendable, Equatable {
        /// MXNet: a `*-symbol.json` graph and a `*.params` weights file.
        case mxnet(symbol: URL, parameters: URL)
        /// ONNX: one `*.onnx` file holding the graph and its weights.
        case onnx(URL)
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
