import Hummingbird

/// The request context of the REST surface: Hummingbird's basic context plus the connection's
/// channel, so that a prediction can tell whether its client is still there.
///
/// Hummingbird does not cancel a handler when its client disconnects; checking the channel when
/// a worker picks a request up is how an abandoned request is dropped without an engine call,
/// while keep-alive connections work as before.
public struct ModelServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Whether the connection the request came on is still open.
    public let isClientConnected: @Sendable () -> Bool

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        let channel = source.channel
        self.isClientConnected = { channel.isActive }
    }
}
