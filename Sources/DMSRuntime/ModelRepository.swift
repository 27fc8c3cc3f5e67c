import DMSCore
import Logging
import Synchronization

/// The Open Inference Protocol's model repository extension: the models the server knows, and,
/// when model control is allowed, unloading and loading them again by name.
///
/// The repository is every model named on the command line or registered through the
/// management API, loaded or not. Unloading one frees it as the management API's DELETE does
/// but keeps its location and the settings in effect (`ModelRegistry.unload`), so that loading
/// it by name brings it back. Loading a model that is ready changes nothing; loading one that
/// failed to load tries its location again. A model registered or unregistered through the
/// management API replaces or leaves its unloaded entry. One load or unload of a name runs at a
/// time: another one meanwhile is a `.conflict`.
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
    private let manager: ModelManager?
    /// The names a load or unload is under way for.
    private let busy = Mutex<Set<String>>([])

    public init(registry: ModelRegistry, control manager: ModelManager?) {
        self.registry = registry
        self.manager = manager
    }

    /// Every model of the repository (only the ready ones with `readyOnly`): those served, those
    /// being registered, those whose registration failed and those unloaded, each name once.
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
        var known = Set(entries.map(\.name))
        for failure in registry.failedRegistrations.reversed() where known.insert(failure.name).inserted {
            entries.append(Entry(name: failure.name, version: OpenInference.modelVersion, state: "UNAVAILABLE", reason: failure.reason))
        }
        for spec in registry.unloadedModels where known.insert(spec.name).inserted {
            entries.append(Entry(name: spec.name, version: OpenInference.modelVersion, state: "UNAVAILABLE", reason: "unloaded"))
        }
        return readyOnly ? entries.filter { $0.state == "READY" } : entries
    }

    /// Loads the model named `name`: one unloaded, or one that failed to load (from its
    /// location again), waiting until it is ready or throwing its load error (it then stays as
    /// it was). A ready model is left as it is; one still loading or unloading is a `.conflict`.
    public func load(_ name: String, logger: Logger) async throws(DMSError) {
        let manager = try control()
        try await exclusively(name) { () throws(DMSError) in
            if let model = try? registry.requireModelIncludingPending(named: name) {
                switch model.state {
                case .ready: return
                case .loading: throw DMSError(.conflict, "model '\(name)' is loading; ask the index for its state")
                case .unloading: throw DMSError(.conflict, "model '\(name)' is unloading; ask the index for its state")
                // Unloaded first, so that it stays in the repository if this load fails too.
                case .failed: try await registry.unload(named: name)
                }
            }
            guard let spec = registry.unloadedModels.last(where: { $0.name == name }) else {
                _ = try registry.requireModelIncludingPending(named: name)  // its reason when a registration failed
                throw DMSError(.notFound, "no model named '\(name)' in the repository")
            }
            logger.info("loading model through the repository extension", metadata: ["model": "\(name)"])
            // The location was accepted when the model was first registered: no allow-list again.
            _ = try await manager.loader.register(spec, in: registry, httpClient: manager.httpClient, logger: logger)
        }
    }

    /// Unloads the model named `name` (`ModelRegistry.unload`): returns once its requests are
    /// answered and its engine memory is freed. A model unloaded already is left as it is.
    public func unload(_ name: String, logger: Logger) async throws(DMSError) {
        _ = try control()
        try await exclusively(name) { () throws(DMSError) in
            if (try? registry.requireModelIncludingPending(named: name)) == nil {
                if registry.unloadedModels.contains(where: { $0.name == name }) { return }
                _ = try registry.requireModelIncludingPending(named: name)  // its reason when a registration failed
            }
            logger.info("unloading model through the repository extension", metadata: ["model": "\(name)"])
            try await registry.unload(named: name)
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

    /// Runs `work` for `name` unless another load or unload of it is under way (`.conflict`).
    private func exclusively(_ name: String, _ work: () async throws(DMSError) -> Void) async throws(DMSError) {
        guard busy.withLock({ $0.insert(name).inserted }) else {
            throw DMSError(.conflict, "a load or unload of model '\(name)' is under way")
        }
        defer { busy.withLock { _ = $0.remove(name) } }
        try await work()
    }
}
