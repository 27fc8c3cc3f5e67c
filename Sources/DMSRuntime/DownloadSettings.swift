import NIOCore

/// How model archives are fetched from remote locations.
public struct DownloadSettings: Sendable {
    /// Largest archive a download may bring; a larger body is refused and nothing is cached.
    public var maxBytes: Int64
    /// How long a connection may stay silent (no connection, no bytes) before the download fails.
    public var stallTimeout: TimeAmount
    /// Fetch again even when a cached copy exists, instead of revalidating it.
    public var forceRefresh: Bool
    /// How often a running download logs its progress.
    public var progressInterval: Duration

    public init(maxBytes: Int64 = 4 << 30, stallTimeout: TimeAmount = .seconds(60), forceRefresh: Bool = false, progressInterval: Duration = .seconds(5)) {
        self.maxBytes = maxBytes
        self.stallTimeout = stallTimeout
        self.forceRefresh = forceRefresh
        self.progressInterval = progressInterval
    }
}
