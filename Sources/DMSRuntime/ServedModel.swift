import DMSCore
import Synchronization

/// One model the server was asked to serve: its name, where it came from, and once loaded its
/// signature, service and worker.
public final class ServedModel: Sendable {
    /// What a ready model needs to answer requests.
    public struct Loaded: Sendable {
        public var artifacts: ModelArtifacts
        public var service: any ModelService
        public var worker: ModelWorker
    }

    public let name: String
    public let location: ModelLocation
    private let guarded: Mutex<(state: ModelState, loaded: Loaded?)>

    init(name: String, location: ModelLocation) {
        self.name = name
        self.location = location
        self.guarded = Mutex((.loading, nil))
    }

    public var state: ModelState { guarded.withLock { $0.state } }

    /// The signature, once the model has loaded.
    public var signature: ModelSignature? { guarded.withLock { $0.loaded?.artifacts.signature } }

    /// The loaded parts, when the model is ready to serve.
    public var readyModel: Loaded? {
        guarded.withLock { $0.state == .ready ? $0.loaded : nil }
    }

    func markReady(_ loaded: Loaded) {
        guarded.withLock { $0 = (.ready, loaded) }
    }

    func markFailed(_ reason: String) {
        guarded.withLock { $0 = (.failed(reason: reason), nil) }
    }

    /// Moves a ready model to unloading and hands back its worker to stop.
    func beginUnloading() -> ModelWorker? {
        guarded.withLock { guarded in
            guard guarded.state == .ready else { return nil }
            guarded.state = .unloading
            return guarded.loaded?.worker
        }
    }
}
