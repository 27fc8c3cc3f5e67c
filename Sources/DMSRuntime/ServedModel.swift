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
    /// `metrics`. A request that reaches workers being replaced by a settings change
    /// (`reconfigure`) goes to the new ones.
    func predict(
        _ request: PredictionRequest, deadline: ContinuousClock.Instant?, clientGone: (@Sendable () -> Bool)?
    ) async throws(DMSError) -> PredictionResponse {
        let loaded = try requireReady()
        if let answer = try await loaded.pipeline.service.answerWithoutEngine(request) { return answer }
        let clock = ContinuousClock()
        var started = clock.now
        let inputs = try await loaded.pipeline.prepare(request)
        metrics.preprocessDuration.record(clock.now - started)
        var scheduler = loaded.scheduler
        var outputs: [Tensor]
        while true {
            do throws(DMSError) {
                outputs = try await scheduler.predict(inputs, deadline: deadline, clientGone: clientGone)
                break
            } catch where error.code == .unavailable {
                guard let current = readyModel?.scheduler, current !== scheduler else { throw error }
                scheduler = current
            }
        }
        started = clock.now
        let response = try await loaded.pipeline.respond(to: request, with: outputs)
        metrics.postprocessDuration.record(clock.now - started)
        return response
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
