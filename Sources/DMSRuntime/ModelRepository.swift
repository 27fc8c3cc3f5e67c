import AsyncHTTPClient
import DMSCore
import Foundation
import Logging

/// The models one server serves, their loading, and the predict path shared by every surface.
public final class ModelRepository: Sendable {
    /// A model to serve: its route name, where its archive is, and how to run it.
    public struct ModelSpec: Sendable, Equatable {
        public var name: String
        public var location: ModelLocation
        public var settings: ModelScheduler.Settings

        public init(name: String, location: ModelLocation, settings: ModelScheduler.Settings = .init()) {
            self.name = name
            self.location = location
            self.settings = settings
        }
    }

    /// Models in the order they were given.
    public let models: [ServedModel]
    private let modelsByName: [String: ServedModel]
    private let store: ModelStore
    private let engines: [any InferenceEngine]
    private let makeService: ServiceFactory
    private let requestedService: String?

    public init(
        specs: [ModelSpec], store: ModelStore, engines: [any InferenceEngine], requestedService: String?,
        makeService: @escaping ServiceFactory
    ) {
        self.models = specs.map { ServedModel(name: $0.name, location: $0.location, requestedSettings: $0.settings) }
        self.modelsByName = Dictionary(uniqueKeysWithValues: models.map { ($0.name, $0) })
        self.store = store
        self.engines = engines
        self.requestedService = requestedService
        self.makeService = makeService
    }

    /// The model named `name`, or a `.notFound` error listing the models this server serves.
    public func requireModel(named name: String) throws(DMSError) -> ServedModel {
        guard let model = modelsByName[name] else {
            throw DMSError(.notFound, "no model named '\(name)'; this server serves \(models.map(\.name).joined(separator: ", "))")
        }
        return model
    }

    /// Loads every model, one after another (engines load faster alone than side by side on a
    /// small machine). Returns the failures; each failed model stays registered with its reason.
    ///
    /// Cancelling the task stops the loading: a download in progress ends (its temporary file
    /// removed), an engine that is loading finishes first, and the models not loaded are left
    /// failed with the reason "the server stopped while loading models" (not counted as
    /// failures).
    @discardableResult
    public func loadAll(httpClient: HTTPClient, logger: Logger) async -> [(model: String, reason: String)] {
        var failures: [(String, String)] = []
        for model in models {
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

    private func load(_ model: ServedModel, httpClient: HTTPClient, logger: Logger) async throws(DMSError) {
        let started = ContinuousClock.now
        logger.info("loading model", metadata: ["model": "\(model.name)", "location": "\(model.location)"])
        let engines = self.engines
        let artifacts = try await store.prepare(model.location, httpClient: httpClient, logger: logger) { files throws(DMSError) in
            guard let engine = engines.first(where: { $0.canLoad(files) }) else {
                throw DMSError(.unsupported, "no engine is available for this model's files")
            }
            return try engine.signature(of: files)
        }
        guard let engine = engines.first(where: { $0.canLoad(artifacts.engineFiles) }) else {
            throw DMSError(.unsupported, "no engine is available for this model's files")
        }
        let signature = artifacts.signature
        let batchable = signature.batchesAcrossRequests
        let maxBatchSize = batchable ? model.requestedSettings.maxBatchSize : 1
        let scheduler = try await ModelScheduler.start(name: model.name, settings: model.requestedSettings, batchable: batchable) { () throws(DMSError) in
            try engine.load(artifacts, maxBatchSize: maxBatchSize)
        }
        let service: any ModelService
        do throws(DMSError) {
            service = try makeService(artifacts, scheduler.predictorDescription, requestedService)
        } catch {
            await scheduler.shutdown()
            throw error
        }
        model.markReady(.init(artifacts: artifacts, service: service, scheduler: scheduler))
        logger.info(
            "model ready",
            metadata: [
                "model": "\(model.name)", "engine": "\(engine.name)", "load_time": "\(ContinuousClock.now - started)",
                "workers": "\(scheduler.settings.workers)", "max_batch_size": "\(scheduler.settings.maxBatchSize)",
            ])
    }

    /// Answers one prediction request: prepare and validate the inputs against the signature,
    /// run them on one of the model's workers, possibly batched with other requests (unless the
    /// queue is full, `deadline` passes first or `clientGone` says the client left while it
    /// waited), postprocess this request's share of the outputs.
    public func predict(
        modelName: String, request: PredictionRequest, deadline: ContinuousClock.Instant? = nil, clientGone: (@Sendable () -> Bool)? = nil
    ) async throws(DMSError) -> PredictionResponse {
        let model = try requireModel(named: modelName)
        guard let ready = model.readyModel else {
            switch model.state {
            case .failed(let reason): throw DMSError(.unavailable, "model '\(modelName)' failed to load: \(reason)")
            case .unloading: throw DMSError(.unavailable, "model '\(modelName)' is shutting down")
            default: throw DMSError(.unavailable, "model '\(modelName)' is still loading")
            }
        }
        let inputs = try ready.service.prepare(request)
        try ready.artifacts.signature.validate(inputs: inputs)
        let outputs = try await ready.scheduler.predict(inputs, deadline: deadline, clientGone: clientGone)
        return try ready.service.postprocess(outputs, for: request)
    }

    /// Before a request's body is read: when the model's queue is full, waits a little for a
    /// place (`ModelScheduler.waitForAdmission`) and refuses the request if none opens. A model
    /// that is not ready is let through: `predict` gives the reason.
    public func waitForAdmission(modelName: String, deadline: ContinuousClock.Instant? = nil) async throws(DMSError) {
        try await requireModel(named: modelName).readyModel?.scheduler.waitForAdmission(deadline: deadline)
    }

    /// Stops every model's workers after its queued requests and releases the engines' models.
    public func unloadAll() async {
        for model in models {
            await model.beginUnloading()?.shutdown()
        }
    }
}
