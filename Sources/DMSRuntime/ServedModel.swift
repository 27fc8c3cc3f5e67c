import DMSCore
import DMSModelStore
import Synchronization

/// One model the server was asked to serve: its name, where it came from, and once loaded its
/// signature, prediction pipeline and scheduler.
public final class ServedModel: Sendable {
    /// What a ready model needs to answer requests.
    public struct Loaded: Sendable {
        public var artifacts: ModelArtifacts
        public var pipeline: PredictionPipeline
        public var scheduler: ModelScheduler
        /// The engine that runs the model ("MXNet", "ONNX Runtime").
        public var engineName: String
        /// Makes one worker's predictor for batches of up to the given size (1 whatever the size
        /// for a model that cannot batch), on the calling thread: what the workers started with,
        /// to start others with new settings.
        public var makePredictor: @Sendable (_ maxBatchSize: Int) throws(DMSError) -> any ModelPredictor

        public init(
            artifacts: ModelArtifacts, pipeline: PredictionPipeline, scheduler: ModelScheduler, engineName: String,
            makePredictor: @escaping @Sendable (_ maxBatchSize: Int) throws(DMSError) -> any ModelPredictor
        ) {
            self.artifacts = artifacts
            self.pipeline = pipeline
            self.scheduler = scheduler
            self.engineName = engineName
            self.makePredictor = makePredictor
        }
    }

    public let name: String
    public let location: ModelLocation
    /// How the model is to be run (workers, batching, queue); the scheduler reports the
    /// settings in effect once loaded.
    public let requestedSettings: ModelScheduler.Settings
    /// The model's metrics.
    public let metrics: ModelMetrics
    private let guarded: Mutex<(state: ModelState, loaded: Loaded?, changing: Bool)>

    init(_ spec: ModelSpec, metrics: ModelMetrics) {
        self.name = spec.name
        self.metrics = metrics
        self.location = spec.location
        self.requestedSettings = spec.settings
        self.guarded = Mutex((.loading, nil, false))
    }

    public var state: ModelState { guarded.withLock { $0.state } }

    /// The signature, once the model has loaded.
    public var signature: ModelSignature? { guarded.withLock { $0.loaded?.artifacts.signature } }

    /// The loaded parts, when the model is ready to serve.
    public var readyModel: Loaded? {
        guarded.withLock { $0.state == .ready ? $0.loaded : nil }
    }

    /// Before a request's body is read: when the model's queue is full, waits a little for a
    /// place (`ModelScheduler.waitForAdmission`) and refuses the request if none opens. A model
    /// that is not ready is let through: running the request gives the reason.
    public func waitForAdmission(deadline: ContinuousClock.Instant?) async throws(DMSError) {
        try await readyModel?.scheduler.waitForAdmission(deadline: deadline)
    }

    /// The loaded parts for a request, or the `.unavailable` error that says why there are none.
    func requireReady() throws(DMSError) -> Loaded {
        let (state, loaded) = guarded.withLock { ($0.state, $0.state == .ready ? $0.loaded : nil) }
        if let loaded { return loaded }
        switch state {
        case .failed(let reason): throw DMSError(.unavailable, "model '\(name)' failed to load: \(reason)")
        case .unloading: throw DMSError(.unavailable, "model '\(name)' is shutting down")
        default: throw DMSError(.unavailable, "model '\(name)' is still loading")
        }
    }

    /// Moves a loading model to ready. False when it is no longer loading (it was unloaded
    /// meanwhile): the caller then stops what it loaded.
    func markReady(_ loaded: Loaded) -> Bool {
        guarded.withLock { guarded in
            guard guarded.state == .loading else { return false }
            guarded.state = .ready
            guarded.loaded = loaded
            return true
        }
    }

    /// Moves a loading model to failed with `reason`; a model unloaded meanwhile stays unloading.
    func markFailed(_ reason: String) {
        guarded.withLock { guarded in
            guard guarded.state == .loading else { return }
            guarded.state = .failed(reason: reason)
            guarded.loaded = nil
        }
    }

    /// Moves a ready or loading model to unloading and hands back its scheduler to stop when it
    /// was ready. A model still loading is stopped by its loader when loading ends; a failed
    /// model keeps its reason.
    func beginUnloading() -> ModelScheduler? {
        guarded.withLock { guarded in
            switch guarded.state {
            case .ready:
                guarded.state = .unloading
                return guarded.loaded?.scheduler
            case .loading:
                guarded.state = .unloading
                return nil
            case .failed, .unloading:
                return nil
            }
        }
    }

    /// Answers one request: prepares its inputs, runs them on one of the model's workers,
    /// possibly batched with other requests (unless the queue is full, `deadline` passes first
    /// or `clientGone` says the client left while it waited), and makes the response from this
    /// request's share of the outputs. The time spent preparing and responding goes to
    /// `metrics`.
    func predict(
        _ request: PredictionRequest, deadline: ContinuousClock.Instant?, clientGone: (@Sendable () -> Bool)?
    ) async throws(DMSError) -> PredictionResponse {
        let loaded = try requireReady()
        if let answer = try await loaded.pipeline.service.answerWithoutEngine(request) { return answer }
        let clock = ContinuousClock()
        let started = clock.now
        let inputs = try await loaded.pipeline.prepare(request)
        metrics.preprocessDuration.record(clock.now - started)
        let outputs = try await run(inputs, scheduler: loaded.scheduler, deadline: deadline, clientGone: clientGone)
        let responding = clock.now
        let response = try await loaded.pipeline.respond(to: request, with: outputs)
        metrics.postprocessDuration.record(clock.now - responding)
        return response
    }

    /// Answers a request in tensors (the Open Inference Protocol's): the model's outputs with
    /// their signature names, in signature order, from the same workers, queue and batches as
    /// `predict`. Inputs are found by their signature names (or `input0`, `input1`, …) and are
    /// either all tensors, which go to the engine as they are once checked against the
    /// signature, or all `BYTES`, one item each, which the model's service prepares as it does
    /// `/predict`'s uploads (an encoded image is decoded and resized). The service's response
    /// step is skipped: clients of this protocol want the tensors. As Triton does, a request of
    /// more rows than the model's `maxBatchSize` is refused: engines keep memory per batch size
    /// they have run, so sizes beyond the ones prepared must not be the client's choice.
    func infer(
        _ request: InferenceRequest, deadline: ContinuousClock.Instant?, clientGone: (@Sendable () -> Bool)?
    ) async throws(DMSError) -> [(name: String, tensor: Tensor)] {
        let loaded = try requireReady()
        guard !loaded.pipeline.service.runsModelItself else {
            throw DMSError(.unsupported, "model '\(name)' is run by its Python service's own _inference, which answers on POST /\(name)/predict only")
        }
        let signature = loaded.artifacts.signature
        let ordered = try Self.inSignatureOrder(request.inputs, signature: signature)
        let inputs: PreparedInputs
        if let tensors = Self.tensors(of: ordered) {
            inputs = PreparedInputs(tensors: tensors)
            try signature.validate(inputs: inputs)
            let maxBatchSize = loaded.scheduler.settings.maxBatchSize
            if signature.batchesAcrossRequests, inputs.rowCount > maxBatchSize {
                throw DMSError(.invalidInput, "a batch of \(inputs.rowCount) rows is more than model '\(name)' takes in one request (max_batch_size \(maxBatchSize))")
            }
        } else {
            let parts = try Self.serviceParts(of: ordered, signature: signature)
            let prediction = PredictionRequest(parts: parts)
            let clock = ContinuousClock()
            let started = clock.now
            inputs = try await loaded.pipeline.prepare(prediction)
            metrics.preprocessDuration.record(clock.now - started)
        }
        let outputs = try await run(inputs, scheduler: loaded.scheduler, deadline: deadline, clientGone: clientGone)
        return zip(signature.outputs, outputs).map { (name: $0.name, tensor: $1) }
    }

    /// Runs prepared inputs on the model's workers. A request that reaches workers being
    /// replaced by a settings change (`reconfigure`) goes to the new ones.
    private func run(
        _ inputs: PreparedInputs, scheduler: ModelScheduler, deadline: ContinuousClock.Instant?, clientGone: (@Sendable () -> Bool)?
    ) async throws(DMSError) -> [Tensor] {
        var scheduler = scheduler
        while true {
            do throws(DMSError) {
                return try await scheduler.predict(inputs, deadline: deadline, clientGone: clientGone)
            } catch where error.code == .unavailable {
                guard let current = readyModel?.scheduler, current !== scheduler else { throw error }
                scheduler = current
            }
        }
    }

    /// The request's inputs in signature order; an unknown, repeated or missing input is an
    /// `.invalidInput` error naming what the model takes.
    package static func inSignatureOrder(_ inputs: [InferenceRequest.Input], signature: ModelSignature) throws(DMSError) -> [InferenceRequest.Input] {
        let takes = signature.inputs.map { "'\($0.name)'" }.joined(separator: ", ")
        switch signature.inSignatureOrder(inputs, name: \.name) {
        case .success(let ordered):
            return ordered
        case .failure(.unknown(let name)):
            throw DMSError(.invalidInput, "unexpected input '\(name)'; this model takes \(takes)")
        case .failure(.repeated(let index)):
            throw DMSError(.invalidInput, "input '\(signature.inputs[index].name)' was sent more than once")
        case .failure(.missing(let index)):
            throw DMSError(.invalidInput, "missing input '\(signature.inputs[index].name)'; this model takes \(takes)")
        }
    }

    /// The inputs' tensors when every input is one, else nil.
    package static func tensors(of inputs: [InferenceRequest.Input]) -> [Tensor]? {
        var tensors: [Tensor] = []
        for input in inputs {
            guard case .tensor(let tensor) = input.content else { return nil }
            tensors.append(tensor)
        }
        return tensors
    }

    /// The parts a service prepares, one per input, when every input holds one `BYTES` item.
    package static func serviceParts(of inputs: [InferenceRequest.Input], signature: ModelSignature) throws(DMSError) -> [PredictionRequest.Part] {
        var parts: [PredictionRequest.Part] = []
        for input in inputs {
            guard case .bytes(let items, _) = input.content else {
                throw DMSError(
                    .invalidInput,
                    "input '\(input.name)' is a tensor while others are BYTES; send every input as a tensor of the signature's type, or every input as one BYTES item (an encoded image) for the model's service")
            }
            guard items.count == 1 else {
                throw DMSError(.invalidInput, "BYTES input '\(input.name)' holds \(items.count) items; send one (an encoded image) per request")
            }
            parts.append(PredictionRequest.Part(name: input.name, bytes: items[0], contentType: nil, isFile: true))
        }
        return parts
    }

    /// Runs the ready model with `settings` from now on and returns the settings in effect.
    ///
    /// New workers start beside the old ones (for a while the model is in memory once more per
    /// worker); once they are ready they take every new request, the old workers answer what
    /// they had queued, then stop and free their predictors. No request is refused or lost on
    /// the way, and the scheduler's counters carry over. One change at a time: another call
    /// meanwhile is a `.conflict` error; a model that is not ready is `.unavailable`.
    public func reconfigure(_ settings: ModelScheduler.Settings) async throws(DMSError) -> ModelScheduler.Settings {
        let loaded = try guarded.withLock { guarded throws(DMSError) -> Loaded in
            guard guarded.state == .ready, let loaded = guarded.loaded else {
                throw DMSError(.unavailable, "model '\(name)' is not ready; only a ready model's settings can change")
            }
            guard !guarded.changing else { throw DMSError(.conflict, "the settings of model '\(name)' are being changed already") }
            guarded.changing = true
            return loaded
        }
        defer { guarded.withLock { $0.changing = false } }
        let old = loaded.scheduler
        let batchable = loaded.artifacts.signature.batchesAcrossRequests
        let carried = old.statistics
        let makePredictor = loaded.makePredictor
        let new = try await ModelScheduler.start(
            name: name, settings: settings, batchable: batchable, metrics: metrics, carryingOver: carried
        ) { () throws(DMSError) in
            try makePredictor(settings.maxBatchSize)
        }
        let replaced = guarded.withLock { guarded in
            guard guarded.state == .ready else { return false }
            guarded.loaded?.scheduler = new
            return true
        }
        guard replaced else {
            await new.shutdown()
            throw DMSError(.unavailable, "model '\(name)' was unregistered while its settings changed")
        }
        await old.shutdown()
        new.carryOver(old.statistics, minus: carried)
        return new.settings
    }
}
