import Hummingbird
import NIOCore

/// The request context of the REST surface: Hummingbird's basic context plus the connection's
/// channel, so that a prediction can find the connection's `ClientConnectionWatcher` and tell
/// whether its client is still there.
public struct ModelServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection the request came on.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// A check of whether the client has left, for the scheduler to call when it picks the
    /// request up (always "no" on a connection without a watcher).
    func clientGoneCheck() async -> @Sendable () -> Bool {
        let watcher = try? await channel.pipeline.handler(type: ClientConnectionWatcher.self).get()
        return { watcher?.isClientGone ?? false }
    }
}
