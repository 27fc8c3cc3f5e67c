import GRPCNIOTransportHTTP2
import NIOCore

/// Closes a gRPC connection that has had no call open and has sent nothing for `limit`: first
/// gracefully, then outright.
///
/// At `limit` it asks the transport to quiesce the connection (`ChannelShouldQuiesceEvent`: a
/// GOAWAY and a PING, then a close once the client answers the PING), so a well-behaved client
/// such as tritonclient lets go and connects again for its next call. A client that never answers
/// (a peer that vanished, a port scanner, a slow-loris attacker that never sends HTTP/2's
/// preface) would keep the connection and its descriptor forever, so one still open `grace` later,
/// without a call, is closed outright.
///
/// Written here rather than taken from the transport's `maxIdleTime`: grpc-swift-nio-transport
/// 2.9.2's idle timer waits for that PING answer without end, and keeps its connection handler
/// alive after the connection closes (its `channelInactive` clears another timer than the idle
/// one), a leak per connection that AddressSanitizer reported.
///
/// Calls are counted by `callOpened()` and `callClosed()`, from the HTTP/2 streams the transport
/// accepts on the connection; a connection with a call open is never closed here, however long
/// the call takes.
final class IdleConnectionReaper: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let limit: TimeAmount
    private let grace: TimeAmount
    private var openCalls = 0
    private var lastActivity = NIODeadline.now()
    private var quiesced = false
    private var check: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(limit: TimeAmount, grace: TimeAmount) {
        self.limit = limit
        self.grace = grace
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        lastActivity = .now()
        scheduleCheck(at: lastActivity + limit)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        context.fireChannelInactive()
    }

    /// A stream (call) was accepted on this connection. On the connection's event loop.
    func callOpened() {
        openCalls += 1
    }

    /// A stream ended; the idle time counts from now. On the connection's event loop.
    func callClosed() {
        openCalls -= 1
        lastActivity = .now()
    }

    private func scheduleCheck(at deadline: NIODeadline) {
        guard let context else { return }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleTask(deadline: deadline) { handler.value.checkIdle() }
    }

    private func checkIdle() {
        guard let context else { return }
        if openCalls > 0 {
            scheduleCheck(at: .now() + limit)
        } else if quiesced {
            context.close(promise: nil)
        } else if lastActivity + limit > .now() {
            scheduleCheck(at: lastActivity + limit)
        } else {
            quiesced = true
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            scheduleCheck(at: .now() + grace)
        }
    }
}

extension IdleConnectionReaper {
    /// The transport's hooks that put a reaper first in every accepted connection and count each
    /// connection's calls.
    static func install(limit: TimeAmount, grace: TimeAmount, into callbacks: inout HTTP2ServerTransport.Config.ChannelDebuggingCallbacks) {
        callbacks.onAcceptTCPConnection = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(IdleConnectionReaper(limit: limit, grace: grace), position: .first)
            }
        }
        callbacks.onAcceptHTTP2Stream = { stream in
            stream.eventLoop.makeCompletedFuture {
                guard let connection = stream.parent,
                    let reaper = try? connection.pipeline.syncOperations.handler(type: IdleConnectionReaper.self)
                else { return }
                reaper.callOpened()
                let bound = NIOLoopBound(reaper, eventLoop: stream.eventLoop)
                stream.closeFuture.whenComplete { _ in bound.value.callClosed() }
            }
        }
    }
}
