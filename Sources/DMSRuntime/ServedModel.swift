import DMSCore
import Synchronization

/// One model the server was asked to serve: its name, where it came from, and once loaded its
/// signature, service and scheduler.
public final class ServedModel: Sendable {
    /// What a ready model needs to answer requests.
    public struct Loaded: Sendable {
        public var artifacts: ModelArtifacts
        public var service: any ModelService
        public var scheduler: ModelScheduler
    }

    public let name: String
    public let location: ModelLocation
    /// How the model is to be run (workers, batching, queue); the scheduler reports the
    /// settings in effect once loaded.
    public let requestedSettings: ModelScheduler.Settings
    private let guarded: Mutex<(state: ModelState, loaded: Loaded?)>

    init(name: String, location: ModelLocation, requestedSettings: ModelScheduler.Settings) {
        self.name = name
        self.location = location
        self.requestedSettings = requestedSettings
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

    /// Moves a ready model to unloading and hands back its scheduler to stop.
    func beginUnloading() -> ModelScheduler? {
        guarded.withLock { guarded in
            guard guarded.state == .ready else { return nil }
            guarded.state = .unloading
            return guarded.loaded?.scheduler
        }
    }
}
