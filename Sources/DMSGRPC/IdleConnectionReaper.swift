import GRPCNIOTransportHTTP2
import NIOCore

/// Closes a gRPC connection that has had no call open and has sent nothing for `limit`.
///
/// The transport (grpc-swift-nio-transport 2.9.2) ends a connection idle for `maxIdleTime`, or one
/// that leaves a keepalive PING unanswered, with a GOAWAY and a PING, and closes it only once the
/// client answers that PING: a client that never answers (a peer that vanished, a port scanner, a
/// slow-loris attacker that never even sends HTTP/2's preface) keeps its connection and its
/// descriptor forever. This handler, first in each connection's pipeline, closes such a
/// connection outright. Its limit is longer than the transport's idle time, so a well-behaved
/// client is let go gracefully first.
///
/// Calls are counted by `callOpened()` and `callClosed()`, from the HTTP/2 streams the transport
/// accepts on the connection; a connection with a call open is never closed here, however long
/// the call takes.
final class IdleConnectionReaper: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let limit: TimeAmount
    private var openCalls = 0
    private var lastActivity = NIODeadline.now()
    private var check: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(limit: TimeAmount) {
        self.limit = limit
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
        let idleUntil = lastActivity + limit
        if openCalls == 0, idleUntil <= .now() {
            context.close(promise: nil)
        } else {
            scheduleCheck(at: openCalls == 0 ? idleUntil : .now() + limit)
        }
    }
}

extension IdleConnectionReaper {
    /// The transport's hooks that put a reaper with `limit` first in every accepted connection
    /// and count each connection's calls.
    static func install(limit: TimeAmount, into callbacks: inout HTTP2ServerTransport.Config.ChannelDebuggingCallbacks) {
        callbacks.onAcceptTCPConnection = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(IdleConnectionReaper(limit: limit), position: .first)
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
