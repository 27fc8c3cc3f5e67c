import NIOCore

/// How model archives are fetched from remote locations.
public struct DownloadSettings: Sendable {
    /// Largest archive a download may bring; a larger body is refused and nothing is cached.
    public var maxBytes: Int64
    /// How long a connection may stay silent (no connection, no bytes) before the download fails.
    public var stallTimeout: TimeAmount
    /// Fetch again even when a cached copy exists, instead of revalidating it.
    public var forceRefresh: Bool

    public init(maxBytes: Int64 = 4 << 30, stallTimeout: TimeAmount = .seconds(60), forceRefresh: Bool = false) {
        self.maxBytes = maxBytes
        self.stallTimeout = stallTimeout
        self.forceRefresh = forceRefresh
    }
}
