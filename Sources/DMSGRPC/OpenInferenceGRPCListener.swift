import DMSCore
import Foundation
import DMSRuntime
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOCore
import ServiceLifecycle

/// The gRPC listener of the Open Inference Protocol: plaintext HTTP/2 (h2c) on its own port,
/// serving `inference.GRPCInferenceService` until graceful shutdown, when it stops taking calls
/// and finishes those under way. It binds once `startsAfter` returns (the server's models are
/// loaded), as the REST port does.
///
/// Messages up to `maxMessageBytes` are accepted (the server's request-size limit; gRPC's usual
/// 4 MiB would refuse most images), larger ones get RESOURCE_EXHAUSTED from the transport.
/// Compressed messages (tritonclient's `compression_algorithm`) are refused with UNIMPLEMENTED, as
/// gRPC answers an encoding it does not take: grpc-swift-nio-transport 2.9.2 does not free its
/// inflate state after a compressed call (about 4.5 KB per call, measured), so taking them would
/// let any client grow the server's memory without bound. A connection without a call for
/// `idleTimeout` is closed, as an idle HTTP connection is (`IdleConnectionReaper`): gracefully
/// (GOAWAY), or half as long again later outright when the client does not let go. With
/// a token, every call but ServerLive and ServerReady (the probes) needs the metadata
/// `authorization: Bearer <token>`: UNAUTHENTICATED without it, PERMISSION_DENIED with another.
public struct OpenInferenceGRPCListener: Service, CustomStringConvertible {
    /// Never shows the token: the service group logs its services' descriptions.
    public struct Configuration: Sendable, CustomStringConvertible {
        /// An IPv4 or IPv6 address (`localhost` is 127.0.0.1).
        public var host: String
        /// 0 binds a free port.
        public var port: Int
        public var maxMessageBytes: Int
        public var token: String?
        /// How long a connection may go without a call before it is closed (GOAWAY), or nil
        /// to keep idle connections open.
        public var idleTimeout: Duration?

        public init(host: String, port: Int, maxMessageBytes: Int, token: String? = nil, idleTimeout: Duration? = nil) {
            self.host = host
            self.port = port
            self.maxMessageBytes = maxMessageBytes
            self.token = token
            self.idleTimeout = idleTimeout
        }

        public var description: String {
            "gRPC on \(host):\(port), messages up to \(maxMessageBytes) bytes, \(token == nil ? "no token" : "token required")"
        }
    }

    let registry: ModelRegistry
    let repository: ModelRepository
    let configuration: Configuration
    let logger: Logger
    /// Returns when the listener may bind.
    let startsAfter: @Sendable () async -> Void
    /// Called with `host:port` once the port is bound.
    let onListening: @Sendable (String) -> Void

    /// Without a `repository`, the repository extension indexes the registry's models and
    /// refuses to load or unload them.
    public init(
        registry: ModelRegistry, repository: ModelRepository? = nil, configuration: Configuration, logger: Logger,
        startsAfter: @escaping @Sendable () async -> Void = {}, onListening: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.startsAfter = startsAfter
        self.registry = registry
        self.repository = repository ?? ModelRepository(registry: registry, control: nil)
        self.configuration = configuration
        self.logger = logger
        self.onListening = onListening
    }

    public var description: String { "OpenInferenceGRPCListener(\(configuration))" }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await startsAfter() }
        if Task.isCancelled || Task.isShuttingDownGracefully { return }
        let (onListening, host) = (onListening, configuration.host)
        let transport = HTTP2ServerTransport.Posix(
            address: Self.socketAddress(host: configuration.host, port: configuration.port), transportSecurity: .plaintext,
            config: .defaults {
                $0.rpc.maxRequestPayloadSize = configuration.maxMessageBytes
                // Told by the listening socket once bound, rather than by awaiting the transport's
                // `listeningAddress`: that stays unknown forever when a shutdown comes before the
                // transport listens, and the task awaiting it would never end.
                $0.channelDebuggingCallbacks.onBindTCPListener = { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ListeningAddressReporter { address in
                                if address.protocol == .inet6, let ip = address.ipAddress {
                                    onListening("[\(ip)]:\(address.port ?? 0)")
                                } else {
                                    onListening("\(host):\(address.port ?? 0)")
                                }
                            })
                    }
                }
                if let idleTimeout = configuration.idleTimeout {
                    IdleConnectionReaper.install(
                        limit: TimeAmount(idleTimeout), grace: TimeAmount(idleTimeout / 2), into: &$0.channelDebuggingCallbacks)
                }
            })
        let service = OpenInferenceGRPCService(registry: registry, repository: repository, limits: TensorJSON.Limits(), logger: logger)
        var interceptors: [ConditionalInterceptor<any ServerInterceptor>] = []
        if let token = configuration.token {
            let probes: Set<MethodDescriptor> = [
                Inference_GRPCInferenceService.Method.ServerLive.descriptor, Inference_GRPCInferenceService.Method.ServerReady.descriptor,
            ]
            interceptors.append(.apply(BearerTokenInterceptor(token: Array(token.utf8)), to: .allExcluding(services: [], methods: probes)))
        }
        let server = GRPCServer(transport: transport, services: [service], interceptorPipeline: interceptors)
        do {
            try await withGracefulShutdownHandler {
                try await server.serve()
            } onGracefulShutdown: {
                server.beginGracefulShutdown()
            }
        } catch where Task.isShuttingDownGracefully {
            // Shut down before it started serving: nothing to finish.
        }
    }

    /// Whether `host` is one the listener can bind: an IPv4 or IPv6 address, or `localhost`
    /// (the transport takes addresses, not names to resolve).
    public static func canBind(host: String) -> Bool {
        if host == "localhost" { return true }
        let bare = withoutBrackets(host)
        var address = in6_addr()
        return inet_pton(bare.contains(":") ? AF_INET6 : AF_INET, bare, &address) == 1
    }

    /// An IPv6 address as URLs write it (`[::1]`) without its brackets; any other host as it is.
    private static func withoutBrackets(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    /// The transport's address for a host the command line took: IPv6 when it has a colon.
    static func socketAddress(host: String, port: Int) -> GRPCNIOTransportCore.SocketAddress {
        if host == "localhost" { return .ipv4(host: "127.0.0.1", port: port) }
        let bare = withoutBrackets(host)
        return bare.contains(":") ? .ipv6(host: bare, port: port) : .ipv4(host: bare, port: port)
    }
}

/// Lets through only calls whose metadata carries `authorization: Bearer <token>` with the
/// server's token, compared in constant time (`BearerToken`).
struct BearerTokenInterceptor: ServerInterceptor {
    let token: [UInt8]

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        guard let presented = BearerToken.parse(request.metadata[stringValues: "authorization"].first(where: { _ in true })) else {
            throw RPCError(code: .unauthenticated, message: "this call needs the metadata 'authorization: Bearer <token>'")
        }
        guard BearerToken.matches(presented, token) else {
            throw RPCError(code: .permissionDenied, message: "the bearer token is not valid for this server")
        }
        return try await next(request, context)
    }
}

/// Passes the listening socket's address on once it is bound (the server channel turns active).
private final class ListeningAddressReporter: ChannelInboundHandler {
    typealias InboundIn = any Channel

    private let report: @Sendable (NIOCore.SocketAddress) -> Void

    init(report: @escaping @Sendable (NIOCore.SocketAddress) -> Void) {
        self.report = report
    }

    func channelActive(context: ChannelHandlerContext) {
        if let address = context.channel.localAddress {
            report(address)
        }
        context.fireChannelActive()
    }
}
