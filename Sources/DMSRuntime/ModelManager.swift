import AsyncHTTPClient
import DMSCore
import DMSModelStore
import Logging

/// Changes the models of a running server, for the management API: registers a model from a
/// location (in the background or while the caller waits), changes a model's scheduling
/// settings, and unregisters one. Each change leaves the registry consistent whatever runs
/// beside it: requests, other changes, the server stopping.
public struct ModelManager: Sendable {
    public let registry: ModelRegistry
    public let loader: ModelLoader
    /// Where registrations may come from.
    public let allowList: LocationAllowList
    /// Fetches remote archives. It must not follow redirects: an allowed URL could otherwise
    /// hand the download to one that is not.
    public let httpClient: HTTPClient
    public let logger: Logger

    public init(registry: ModelRegistry, loader: ModelLoader, allowList: LocationAllowList, httpClient: HTTPClient, logger: Logger) {
        self.registry = registry
        self.loader = loader
        self.allowList = allowList
        self.httpClient = httpClient
        self.logger = logger
    }

    /// Registers `spec`: waits until the model is ready (or throws its load error, leaving the
    /// server as it was), or with `inBackground` returns at once with the model reserved. A
    /// location outside the allow-list is a `.permissionDenied` error, before anything is fetched.
    @discardableResult
    public func register(_ spec: ModelSpec, inBackground: Bool) async throws(DMSError) -> ServedModel {
        try ModelSpec.validateName(spec.name)
        guard allowList.allows(spec.location) else {
            throw DMSError(
                .permissionDenied,
                "registering from '\(LocationAllowList.canonical(spec.location))' is not allowed; the server allows \(allowList) (--allowed-urls)")
        }
        logger.info("registering model", metadata: ["model": "\(spec.name)", "location": "\(spec.location)", "background": "\(inBackground)"])
        if inBackground {
            return try loader.registerInBackground(spec, in: registry, httpClient: httpClient, logger: logger)
        }
        return try await loader.register(spec, in: registry, httpClient: httpClient, logger: logger)
    }

    /// Unregisters the model named `name` (see `ModelRegistry.remove`); returns once its
    /// requests are answered and its engine memory is freed.
    public func unregister(_ name: String) async throws(DMSError) {
        logger.info("unregistering model", metadata: ["model": "\(name)"])
        try await registry.remove(named: name)
        logger.info("model unregistered", metadata: ["model": "\(name)"])
    }

    /// Runs the model named `name` with `settings` (see `ServedModel.reconfigure`).
    public func reconfigure(_ name: String, to settings: ModelScheduler.Settings) async throws(DMSError) -> ModelScheduler.Settings {
        let model = try registry.requireModel(named: name)
        logger.info(
            "changing model settings",
            metadata: [
                "model": "\(name)", "workers": "\(settings.workers)", "max_batch_size": "\(settings.maxBatchSize)",
                "max_batch_delay": "\(settings.maxBatchDelay)", "queue_size": "\(settings.queueSize)",
            ])
        return try await model.reconfigure(settings)
    }
}
