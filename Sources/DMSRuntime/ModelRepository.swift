import DMSCore
import Logging
import Synchronization

/// The Open Inference Protocol's model repository extension: the models the server knows, and,
/// when model control is allowed, unloading and loading them again by name.
///
/// The repository is every model named on the command line or registered through the
/// management API, loaded or not. Unloading one frees it as the management API's DELETE does
/// but keeps its location and settings, so that loading it by name brings it back (from the
/// model store's cache when the location is remote). Loading a model that is loaded changes
/// nothing. A model unregistered through the management API leaves the repository.
public final class ModelRepository: Sendable {
    /// One model of the index.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var version: String
        /// `READY`, `LOADING`, `UNLOADING` or `UNAVAILABLE` (Triton's names).
        public var state: String
        /// Why a model is unavailable; empty otherwise.
        public var reason: String
    }

    public let registry: ModelRegistry
    /// Loads models again; nil when model control is not allowed (`--allow-model-control`).
    let manager: ModelManager?
    /// The models unloaded through the repository, in the order they were unloaded.
    private let unloaded = Mutex<[ModelSpec]>([])

    public init(registry: ModelRegistry, control manager: ModelManager?) {
        self.registry = registry
        self.manager = manager
    }

    /// Whether load and unload are allowed.
    public var allowsModelControl: Bool { manager != nil }

    /// Every model of the repository (only the ready ones with `readyOnly`): those served, those
    /// being registered, those whose registration failed and those unloaded.
    public func index(readyOnly: Bool) -> [Entry] {
        var entries: [Entry] = registry.modelsIncludingPending.map { model, pending in
            let (state, reason): (String, String) =
                switch model.state {
                case .ready: ("READY", "")
                case .loading: ("LOADING", "")
                case .unloading: ("UNLOADING", "")
                case .failed(let reason): ("UNAVAILABLE", reason)
                }
            return Entry(name: model.name, version: OpenInference.modelVersion, state: pending ? "LOADING" : state, reason: reason)
        }
        let known = Set(entries.map(\.name))
        entries += registry.failedRegistrations.filter { !known.contains($0.name) }.map {
            Entry(name: $0.name, version: OpenInference.modelVersion, state: "UNAVAILABLE", reason: $0.reason)
        }
        entries += unloaded.withLock { $0 }.filter { !known.contains($0.name) }.map {
            Entry(name: $0.name, version: OpenInference.modelVersion, state: "UNAVAILABLE", reason: "unloaded")
        }
        return readyOnly ? entries.filter { $0.state == "READY" } : entries
    }

    /// Loads the model named `name` again after `unload`, waiting until it is ready (or throwing
    /// its load error; it then stays unloaded, to be loaded again later). A model that is served
    /// already is left as it is.
    public func load(_ name: String, logger: Logger) async throws(DMSError) {
        let manager = try control()
        if (try? registry.requireModelIncludingPending(named: name)) != nil { return }
        guard let spec = unloaded.withLock({ $0.last { $0.name == name } }) else {
            throw DMSError(
                .notFound,
                "no model named '\(name)' in the repository; it holds the models of the command line and of the management API, loaded or unloaded")
        }
        logger.info("loading model through the repository extension", metadata: ["model": "\(name)"])
        do {
            // The location was accepted when the model was first registered: no allow-list again.
            _ = try await manager.loader.register(spec, in: registry, httpClient: manager.httpClient, logger: logger)
        } catch where error.code == .alreadyExists {
            return  // another call loads it
        }
        unloaded.withLock { $0.removeAll { $0.name == name } }
    }

    /// Unloads the model named `name` (see `ModelRegistry.remove`), keeping what `load` needs.
    /// A model unloaded already is left as it is.
    public func unload(_ name: String, logger: Logger) async throws(DMSError) {
        let manager = try control()
        guard let model = try? registry.requireModelIncludingPending(named: name) else {
            if unloaded.withLock({ $0.contains { $0.name == name } }) { return }
            throw DMSError(.notFound, "no model named '\(name)' in the repository")
        }
        // The settings in effect, so that changes made through the management API survive.
        let settings = model.readyModel?.scheduler.settings ?? model.requestedSettings
        let spec = ModelSpec(name: name, location: model.location, settings: settings)
        logger.info("unloading model through the repository extension", metadata: ["model": "\(name)"])
        // Kept before the model goes, so that no moment has it in neither place.
        unloaded.withLock { specs in
            specs.removeAll { $0.name == name }
            specs.append(spec)
        }
        do {
            try await manager.unregister(name)
        } catch where error.code == .notFound {
            return  // another call unloaded it
        }
    }

    private func control() throws(DMSError) -> ModelManager {
        guard let manager else {
            throw DMSError(
                .permissionDenied,
                "loading and unloading models through the repository extension is off; start the server with --allow-model-control to allow it")
        }
        return manager
    }
}
