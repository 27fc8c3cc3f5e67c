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

        /// Answers one request: prepares its inputs, runs them on one of the model's workers,
        /// possibly batched with other requests (unless the queue is full, `deadline` passes
        /// first or `clientGone` says the client left while it waited), and makes the response
        /// from this request's share of the outputs. The time spent preparing and responding goes
        /// to `metrics`.
        func predict(
            _ request: PredictionRequest, deadline: ContinuousClock.Instant?, clientGone: (@Sendable () -> Bool)?, metrics: ModelMetrics
        ) async throws(DMSError) -> PredictionResponse {
            if let answer = try await pipeline.service.answerWithoutEngine(request) { return answer }
            let clock = ContinuousClock()
            var started = clock.now
            let inputs = try await pipeline.prepare(request)
            metrics.preprocessDuration.record(clock.now - started)
            let outputs = try await scheduler.predict(inputs, deadline: deadline, clientGone: clientGone)
            started = clock.now
            let response = try await pipeline.respond(to: request, with: outputs)
            metrics.postprocessDuration.record(clock.now - started)
            return response
        }
    }

    public let name: String
    public let location: ModelLocation
    /// How the model is to be run (workers, batching, queue); the scheduler reports the
    /// settings in effect once loaded.
    public let requestedSettings: ModelScheduler.Settings
    /// The model's metrics.
    public let metrics: ModelMetrics
    private let guarded: Mutex<(state: ModelState, loaded: Loaded?)>

    init(_ spec: ModelSpec, metrics: ModelMetrics) {
        self.name = spec.name
        self.metrics = metrics
        self.location = spec.location
        self.requestedSettings = spec.settings
        self.guarded = Mutex((.loading, nil))
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
            guarded = (.ready, loaded)
            return true
        }
    }

    /// Moves a loading model to failed with `reason`; a model unloaded meanwhile stays unloading.
    func markFailed(_ reason: String) {
        guarded.withLock { guarded in
            guard guarded.state == .loading else { return }
            guarded = (.failed(reason: reason), nil)
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
}
