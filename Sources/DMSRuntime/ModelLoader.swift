import AsyncHTTPClient
import DMSCore
import DMSModelStore
import Logging

/// Turns registered models into ready ones: fetches each model's files through the model store,
/// picks the engine whose format they are, starts the model's workers and builds its service.
public struct ModelLoader: Sendable {
    public var store: ModelStore
    /// The engines, in the order model folders are matched against their formats.
    public var engines: [any InferenceEngine]
    /// The service asked for with `--service`, if any; else the archive's or the default.
    public var requestedService: String?
    public var makeService: ServiceFactory

    public init(store: ModelStore, engines: [any InferenceEngine], requestedService: String?, makeService: @escaping ServiceFactory) {
        self.store = store
        self.engines = engines
        self.requestedService = requestedService
        self.makeService = makeService
    }

    /// Loads `models` (the models of the command line, added to a registry), one after another
    /// (engines load faster alone than side by side on a small machine). Returns the failures;
    /// each failed model stays registered with its reason.
    ///
    /// Cancelling the task stops the loading: a download in progress ends (its temporary file
    /// removed), an engine that is loading finishes first, and the models not loaded are left
    /// failed with the reason "the server stopped while loading models" (not counted as
    /// failures).
    @discardableResult
    public func loadAll(_ models: [ServedModel], httpClient: HTTPClient, logger: Logger) async -> [(model: String, reason: String)] {
        var failures: [(String, String)] = []
        for model in models where model.state == .loading {
            do throws(DMSError) {
                guard !Task.isCancelled else { throw DMSError(.unavailable, Self.stoppedWhileLoading) }
                try await load(model, httpClient: httpClient, logger: logger)
            } catch where Task.isCancelled {
                model.markFailed(Self.stoppedWhileLoading)
                logger.info("model not loaded: the server is stopping", metadata: ["model": "\(model.name)"])
            } catch {
                model.markFailed(error.message)
                logger.error("model failed to load", metadata: ["model": "\(model.name)", "reason": "\(error.message)"])
                failures.append((model.name, error.message))
            }
        }
        return failures
    }

    private static let stoppedWhileLoading = "the server stopped while loading models"

    /// Registers `spec` in a running `registry` and loads it; the model is served once ready
    /// (see `ModelRegistry.reserve`). When loading fails the name is given back, so the
    /// registry is as it was, and the load error is thrown; a taken name is an
    /// `.alreadyExists` error.
    @discardableResult
    public func register(_ spec: ModelSpec, in registry: ModelRegistry, httpClient: HTTPClient, logger: Logger) async throws(DMSError) -> ServedModel {
        let model = try registry.reserve(spec)
        try await loadReserved(model, in: registry, httpClient: httpClient, logger: logger, remembersFailure: false)
        return model
    }

    /// Registers `spec` as `register` does, but loads it in the background: returns the
    /// reserved model at once. A failure is logged and kept in `registry.failedRegistrations`.
    @discardableResult
    public func registerInBackground(_ spec: ModelSpec, in registry: ModelRegistry, httpClient: HTTPClient, logger: Logger) throws(DMSError) -> ServedModel {
        let model = try registry.reserve(spec)
        Task {
            try? await loadReserved(model, in: registry, httpClient: httpClient, logger: logger, remembersFailure: true)
        }
        return model
    }

    private func loadReserved(
        _ model: ServedModel, in registry: ModelRegistry, httpClient: HTTPClient, logger: Logger, remembersFailure: Bool
    ) async throws(DMSError) {
        do throws(DMSError) {
            try await load(model, httpClient: httpClient, logger: logger)
        } catch {
            logger.error("model registration failed", metadata: ["model": "\(model.name)", "reason": "\(error.message)"])
            registry.withdraw(model, reason: remembersFailure ? error.message : nil)
            throw error
        }
        guard registry.publish(model) else {
            // Unregistered while it loaded: the removal stopped it, or stops it now.
            await model.beginUnloading()?.shutdown()
            throw DMSError(.unavailable, "model '\(model.name)' was unregistered while it loaded")
        }
    }

    /// Loads one model and marks it ready. Errors leave the marking of the model to the caller.
    public func load(_ model: ServedModel, httpClient: HTTPClient, logger: Logger) async throws(DMSError) {
        let started = ContinuousClock.now
        logger.info("loading model", metadata: ["model": "\(model.name)", "location": "\(model.location)"])
        let artifacts = try await store.prepare(model.location, engines: engines, httpClient: httpClient, logger: logger)
        let engine = try engines.engine(for: artifacts.engineFiles)
        let signature = artifacts.signature
        // A model whose signature fixes the batch dimension runs one request per engine call.
        let makePredictor: @Sendable (Int) throws(DMSError) -> any ModelPredictor = { requestedBatchSize throws(DMSError) in
            try engine.load(artifacts, maxBatchSize: signature.batchesAcrossRequests ? requestedBatchSize : 1)
        }
        let settings = model.requestedSettings
        let scheduler = try await ModelScheduler.start(
            name: model.name, settings: settings, batchable: signature.batchesAcrossRequests, metrics: model.metrics
        ) { () throws(DMSError) in
            try makePredictor(settings.maxBatchSize)
        }
        let service: any ModelService
        do throws(DMSError) {
            service = try await makeService(artifacts, scheduler.predictorDescription, requestedService, model.name)
        } catch {
            await scheduler.shutdown()
            throw error
        }
        let loaded = ServedModel.Loaded(
            artifacts: artifacts, pipeline: PredictionPipeline(signature: signature, service: service), scheduler: scheduler, engineName: engine.name,
            makePredictor: makePredictor)
        guard model.markReady(loaded) else {
            await scheduler.shutdown()
            throw DMSError(.unavailable, "model '\(model.name)' was unloaded while it loaded")
        }
        model.metrics.recordLoad(ContinuousClock.now - started)
        logger.info(
            "model ready",
            metadata: [
                "model": "\(model.name)", "engine": "\(engine.name)", "load_time": "\(ContinuousClock.now - started)",
                "workers": "\(scheduler.settings.workers)", "max_batch_size": "\(scheduler.settings.maxBatchSize)",
            ])
    }
}
