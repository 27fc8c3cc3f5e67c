/// Settings of the REST surface.
public struct HTTPConfiguration: Sendable {
    /// Largest request body accepted; larger ones get 413 PayloadTooLarge.
    public var maxBodyBytes: Int
    /// The `host:port` written into the API description.
    public var advertisedHost: String
    /// The answer to `GET /metrics`, made fresh for each scrape (Prometheus' text format); no
    /// such endpoint without it.
    public var metricsExposition: (@Sendable () -> [UInt8])?
    /// The bearer token every request but the probes must carry, or nil for none.
    public var token: String?
    /// Where each request's access-log entry goes, or nil for no access log.
    public var accessLog: (@Sendable (AccessLogEntry) -> Void)?
    /// How long a client may take to send a request's body; slower uploads get 408.
    public var bodyTimeout: Duration

    public init(
        maxBodyBytes: Int = 10 << 20, advertisedHost: String = "127.0.0.1:8080", metricsExposition: (@Sendable () -> [UInt8])? = nil,
        token: String? = nil, accessLog: (@Sendable (AccessLogEntry) -> Void)? = nil, bodyTimeout: Duration = .seconds(60)
    ) {
        self.maxBodyBytes = maxBodyBytes
        self.bodyTimeout = bodyTimeout
        self.advertisedHost = advertisedHost
        self.metricsExposition = metricsExposition
        self.token = token
        self.accessLog = accessLog
    }
}
