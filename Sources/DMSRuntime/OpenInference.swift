import DMSCore
import Foundation

/// What the Open Inference Protocol (KServe v2) says about the server and its models, decided
/// once for both of its surfaces: REST (`DMSHTTP`) and gRPC (`DMSGRPC`) only write these values
/// in their wire formats. Both also run inference through `infer(_:outputs:model:deadline:clientGone:)`
/// inside `ServedModel.countingRequest`, so the same request gets the same answer, the same
/// errors, the same batches and the same metrics on either.
///
/// Every model has one version, `1`. A request that names no version (an empty string over
/// gRPC) means that one; any other version is `.notFound`.
public enum OpenInference {
    public static let serverName = "deep-model-server"
    /// The protocol extensions implemented, as server metadata lists them.
    public static let extensions = ["binary_tensor_data", "model_configuration", "model_repository", "statistics"]
    /// The one version every model has.
    public static let modelVersion = "1"

    /// The model `name` at `version` (nil or empty for the only one); `.notFound` for an
    /// unknown model or another version.
    public static func model(named name: String, version: String?, in registry: ModelRegistry) throws(DMSError) -> ServedModel {
        let model = try registry.requireModel(named: name)
        if let version, !version.isEmpty, version != modelVersion {
            throw DMSError(.notFound, "model '\(name)' has no version '\(version)'; it has one version, \(modelVersion)")
        }
        return model
    }

    /// Whether every model is ready, as server readiness reports it.
    public static func serverReady(_ registry: ModelRegistry) -> Bool {
        registry.models.allSatisfy { $0.state == .ready }
    }

    /// A tensor as model metadata describes it.
    public struct TensorMetadata: Sendable, Equatable {
        public var name: String
        /// The protocol's name of the element type (`FP32`).
        public var datatype: String
        /// A dimension of any size is -1.
        public var shape: [Int64]
    }

    /// The protocol's model metadata.
    public struct ModelMetadata: Sendable, Equatable {
        public var name: String
        public var versions: [String]
        public var platform: String
        public var inputs: [TensorMetadata]
        public var outputs: [TensorMetadata]
    }

    /// A ready model's metadata; `.unavailable` for one that is not ready (it may have no
    /// signature yet).
    public static func metadata(of model: ServedModel) throws(DMSError) -> ModelMetadata {
        let ready = try readyModel(model)
        let signature = ready.artifacts.signature
        func tensors(_ specs: [ModelSignature.TensorSpec]) -> [TensorMetadata] {
            specs.map { TensorMetadata(name: $0.name, datatype: $0.dataType.rawValue, shape: dimensions($0.shape)) }
        }
        return ModelMetadata(
            name: model.name, versions: [modelVersion], platform: platform(engineName: ready.engineName),
            inputs: tensors(signature.inputs), outputs: tensors(signature.outputs))
    }

    /// A tensor of a model configuration.
    public struct ConfiguredTensor: Sendable, Equatable {
        public var name: String
        public var dataType: DataType
        /// Without the batch dimension when the model's `maxBatchSize` is above 0.
        public var dims: [Int64]
    }

    /// The model configuration extension's answer, the part of Triton's model configuration
    /// this server can state: name, platform, `maxBatchSize` (the most rows one engine call
    /// takes; 0 for a model that cannot batch), inputs and outputs.
    public struct ModelConfiguration: Sendable, Equatable {
        public var name: String
        public var platform: String
        public var maxBatchSize: Int
        public var inputs: [ConfiguredTensor]
        public var outputs: [ConfiguredTensor]
    }

    /// A ready model's configuration; `.unavailable` for one that is not ready. Dimensions
    /// leave out the batch dimension when `maxBatchSize` is above 0, as Triton's do.
    public static func configuration(of model: ServedModel) throws(DMSError) -> ModelConfiguration {
        let ready = try readyModel(model)
        let signature = ready.artifacts.signature
        let maxBatchSize = signature.batchesAcrossRequests ? ready.scheduler.settings.maxBatchSize : 0
        func tensors(_ specs: [ModelSignature.TensorSpec]) -> [ConfiguredTensor] {
            specs.map { ConfiguredTensor(name: $0.name, dataType: $0.dataType, dims: dimensions(maxBatchSize > 0 ? Array($0.shape.dropFirst()) : $0.shape)) }
        }
        return ModelConfiguration(
            name: model.name, platform: platform(engineName: ready.engineName), maxBatchSize: maxBatchSize,
            inputs: tensors(signature.inputs), outputs: tensors(signature.outputs))
    }

    /// The statistics extension's entry of one model, in Triton's terms: `inferenceCount` (rows
    /// the engine ran), `executionCount` (engine calls), `lastInference` (milliseconds since
    /// 1970, 0 before the first) and the scheduler's step times (`ModelScheduler.Timings`:
    /// success, failure and queue per request from when it joins the queue; input, infer and
    /// output per request and per batch size per engine call).
    public struct ModelStatistics: Sendable, Equatable {
        public var name: String
        public var version: String
        public var lastInference: Int64
        public var inferenceCount: Int
        public var executionCount: Int
        public var timings: ModelScheduler.Timings
    }

    /// A ready model's statistics; nil for one that is not ready.
    public static func statistics(of model: ServedModel) -> ModelStatistics? {
        guard let ready = model.readyModel else { return nil }
        let statistics = ready.scheduler.statistics
        let timings = statistics.timings
        return ModelStatistics(
            name: model.name, version: modelVersion,
            lastInference: timings.lastInference.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) } ?? 0,
            inferenceCount: statistics.batchSizes.reduce(0) { $0 + $1.key * $1.value }, executionCount: statistics.engineCalls,
            timings: timings)
    }

    /// Runs `request` with `model` and answers the outputs asked for (`requested` names, in
    /// their order; every output in signature order when nil). An unknown output name is
    /// `.invalidInput`, refused before the request takes a place in the queue.
    public static func infer(
        _ request: InferenceRequest, outputs requested: [String]?, model: ServedModel, deadline: ContinuousClock.Instant?,
        clientGone: (@Sendable () -> Bool)?
    ) async throws(DMSError) -> [(name: String, tensor: Tensor)] {
        if let signature = model.signature {
            _ = try select(requested, from: signature.outputs.map(\.name))
        }
        let named = try await model.infer(request, deadline: deadline, clientGone: clientGone)
        return try select(requested, from: named.map(\.name)).map { named[$0] }
    }

    /// The indices into `names` of the outputs `requested` (all of them when nil), in the order
    /// asked; an unknown name is an `.invalidInput` error.
    public static func select(_ requested: [String]?, from names: [String]) throws(DMSError) -> [Int] {
        guard let requested else { return Array(names.indices) }
        return try requested.map { name throws(DMSError) in
            guard let index = names.firstIndex(of: name) else {
                throw DMSError(.invalidInput, "unknown output '\(name)'; this model's outputs are \(names.map { "'\($0)'" }.joined(separator: ", "))")
            }
            return index
        }
    }

    /// The deadline of a request: the earlier of `deadline` (the transport's: a header, a gRPC
    /// timeout) and the protocol's own `timeout` request parameter, Triton's time budget in
    /// microseconds counted from `arrival` (tritonclient's `infer(timeout=…)`).
    public static func deadline(
        _ deadline: ContinuousClock.Instant?, timeoutMicroseconds: Int64?, from arrival: ContinuousClock.Instant
    ) -> ContinuousClock.Instant? {
        guard let timeoutMicroseconds else { return deadline }
        let parameterDeadline = arrival + .microseconds(timeoutMicroseconds)
        return deadline.map { min($0, parameterDeadline) } ?? parameterDeadline
    }

    /// Refuses request parameters of extensions this server does not implement, which would
    /// otherwise be ignored and change the answer's meaning: classification outputs and shared
    /// memory. `keys` are the parameter names of an input or output, `what` names it.
    public static func refuseUnsupportedParameters(_ keys: [String], of what: String) throws(DMSError) {
        if keys.contains("classification") {
            throw DMSError(.invalidInput, "\(what): the classification extension is not supported; ask for the output tensor")
        }
        if let key = keys.sorted().first(where: { $0.hasPrefix("shared_memory_") }) {
            throw DMSError(.invalidInput, "\(what): '\(key)': the shared memory extensions are not supported; send the data in the request")
        }
    }

    /// Refuses repository load and unload parameters this server does not implement, which ask
    /// to change the model (`config`, `file:…`); `unload_dependents` changes nothing here (no
    /// model depends on another) and passes.
    public static func refuseRepositoryParameters(_ keys: [String]) throws(DMSError) {
        if let key = keys.sorted().first(where: { $0 != "unload_dependents" }) {
            throw DMSError(.invalidInput, "repository parameter '\(key)' is not supported; a model loads again from where it was registered")
        }
    }

    /// A signature's shape as the protocol writes it: a dimension of any size (0 or -1 in a
    /// signature) as -1.
    public static func dimensions(_ shape: [Int]) -> [Int64] {
        shape.map { Int64($0 <= 0 ? -1 : $0) }
    }

    /// Triton's platform names for the engines (`onnxruntime_onnx`); `mxnet` for MXNet, which
    /// Triton does not run.
    public static func platform(engineName: String?) -> String {
        switch engineName {
        case "ONNX Runtime": "onnxruntime_onnx"
        case "MXNet": "mxnet"
        default: engineName?.lowercased() ?? ""
        }
    }

    private static func readyModel(_ model: ServedModel) throws(DMSError) -> ServedModel.Loaded {
        guard let ready = model.readyModel else { throw DMSError(.unavailable, "model '\(model.name)' is not ready") }
        return ready
    }
}

extension ModelScheduler.Timings.Step {
    /// The step's total time in whole nanoseconds.
    public var nanoseconds: Int64 {
        let components = total.components
        return components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}

extension ServedModel {
    /// Runs `work` (one request to this model, from its arrival to its answer) and counts it in
    /// the model's request metrics by its outcome (from the `DMSError` it throws; `.error` for
    /// any other error) and duration.
    public func countingRequest<Value, Failure: Error>(_ work: () async throws(Failure) -> Value) async throws(Failure) -> Value {
        let started = ContinuousClock.now
        do {
            let value = try await work()
            metrics.recordRequest(.success, duration: .now - started)
            return value
        } catch {
            metrics.recordRequest((error as? DMSError).map(ModelMetrics.Outcome.init) ?? .error, duration: .now - started)
            throw error
        }
    }
}
