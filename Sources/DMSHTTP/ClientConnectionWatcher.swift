import NIOCore
import Synchronization

/// Notices when a client closes its side of the connection, so a request it left behind in a
/// model's queue can be dropped without an engine call.
///
/// Hummingbird keeps a connection open when its client half-closes it (so the channel stays
/// active) and does not cancel a handler whose client left, so the route asks this handler,
/// one per connection in the channel pipeline, instead. A client that half-closes and still
/// waits for its answer is therefore taken as gone while its request waits; HTTP clients do not
/// do that in practice.
public final class ClientConnectionWatcher: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    /// Parts pass through untouched; only events are looked at.
    public typealias InboundIn = NIOAny

    private let closed = Atomic<Bool>(false)

    public init() {}

    /// Whether the client has closed its side of the connection (or the connection is gone).
    public var isClientGone: Bool { closed.load(ordering: .relaxed) }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            closed.store(true, ordering: .relaxed)
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        closed.store(true, ordering: .relaxed)
        context.fireChannelInactive()
    }
}
