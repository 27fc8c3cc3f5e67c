/// An inference engine (MXNet, ONNX Runtime, …) that turns model artifacts into predictors.
///
/// Engines plug into the runtime through this protocol; the runtime never imports an engine.
public protocol InferenceEngine: Sendable {
    /// A short name for logs and errors, for example "MXNet".
    var name: String { get }

    /// The engine's library, opened if needed: the version it reports about itself (recorded in
    /// the manifests `deep-model-export` writes) and the file it was opened from (`--version`).
    func library() throws(DMSError) -> EngineLibrary

    /// How the engine recognises its models' files.
    var format: any ModelFormat { get }

    /// Loads the model and checks it against its signature: anything that would make a later
    /// prediction fail (missing inputs, output shapes that disagree) is an `.invalidModel` error
    /// here, not an abort later. `maxBatchSize` is the most rows the runtime will batch into one
    /// call, so the engine can prepare (and warm up) for the batch sizes it will see.
    func load(_ artifacts: ModelArtifacts, maxBatchSize: Int) throws(DMSError) -> any ModelPredictor

    /// The signature a model file declares about itself, for formats that carry one (ONNX), so
    /// such a model can be served without `signature.json`. Inputs and outputs are JSON tensors.
    func signature(of files: ModelArtifacts.EngineFiles) throws(DMSError) -> ModelSignature

    /// Checks a model that `deep-model-export` is about to pack, as far as the engine can: by
    /// default it loads the model (and so checks it against its signature); an engine may check
    /// without its library when the files allow it.
    func checkForExport(_ artifacts: ModelArtifacts) throws(DMSError)
}

/// An engine's shared library as the process opened it.
public struct EngineLibrary: Sendable, Equatable {
    /// What the library reports about itself, for example "1.9.1".
    public var version: String
    /// The file it was opened from.
    public var path: String

    public init(version: String, path: String) {
        self.version = version
        self.path = path
    }
}

extension InferenceEngine {
    /// Whether this engine runs models stored as `files`.
    public func canLoad(_ files: ModelArtifacts.EngineFiles) -> Bool {
        files.format == format.name
    }

    public func checkForExport(_ artifacts: ModelArtifacts) throws(DMSError) {
        _ = try load(artifacts)
    }

    /// Loads the model for calls of one request at a time.
    public func load(_ artifacts: ModelArtifacts) throws(DMSError) -> any ModelPredictor {
        try load(artifacts, maxBatchSize: 1)
    }

    /// Formats that do not describe their inputs (MXNet) need a `signature.json`.
    public func signature(of files: ModelArtifacts.EngineFiles) throws(DMSError) -> ModelSignature {
        throw DMSError(.invalidModel, "the model has no 'signature.json', and \(name) models do not describe their own inputs")
    }
}

extension Array where Element == any InferenceEngine {
    /// The engine that reads `files`, or an `.unsupported` error when none of these does.
    public func engine(for files: ModelArtifacts.EngineFiles) throws(DMSError) -> any InferenceEngine {
        guard let engine = first(where: { $0.canLoad(files) }) else {
            throw DMSError(.unsupported, "no engine of this server reads \(files.format) models")
        }
        return engine
    }
}

/// A loaded model that computes outputs from inputs.
///
/// Contract: the runtime never makes two simultaneous calls to `predict` on one predictor; calls
/// come from one dedicated worker thread, never from Swift's cooperative pool or an event loop,
/// because they block for milliseconds to seconds.
public protocol ModelPredictor: AnyObject, Sendable {
    /// Facts about the loaded model that services use.
    var description: PredictorDescription { get }

    /// Runs the model on `inputs`, one tensor per signature input in signature order, already
    /// validated against the signature's shapes. Returns one tensor per output.
    func predict(_ inputs: [Tensor]) throws(DMSError) -> [Tensor]
}

/// What an engine learned about a model while loading it.
public struct PredictorDescription: Sendable, Equatable {
    /// The last operation of the network, as far as services care.
    public enum OutputActivation: Sendable, Equatable {
        /// The outputs are already probabilities (the network ends in a softmax).
        case softmax
        /// Anything else: the outputs are raw scores.
        case none
        /// The engine cannot see the network's last operation (ONNX Runtime's C API does not
        /// show the graph); services judge by the values.
        case undetermined
    }

    public var outputNames: [String]
    public var outputActivation: OutputActivation
    /// The batch sizes the engine has prepared and runs without extra cost, when other sizes
    /// cost more (MXNet binds a new graph, and keeps its memory, for every batch size); the
    /// scheduler forms batches of these sizes. Nil when every size costs the same.
    public var preferredBatchSizes: [Int]?

    public init(outputNames: [String], outputActivation: OutputActivation, preferredBatchSizes: [Int]? = nil) {
        self.outputNames = outputNames
        self.outputActivation = outputActivation
        self.preferredBatchSizes = preferredBatchSizes
    }
}
