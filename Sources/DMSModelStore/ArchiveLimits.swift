/// Bounds that keep a hostile or broken archive from filling the disk or the memory.
public struct ArchiveLimits: Sendable {
    /// Most entries an archive may hold.
    public var maxEntryCount: Int
    /// Most bytes all entries may unpack to, declared or actual.
    public var maxUnpackedBytes: UInt64

    public init(maxEntryCount: Int = 10_000, maxUnpackedBytes: UInt64 = 8 << 30) {
        self.maxEntryCount = maxEntryCount
        self.maxUnpackedBytes = maxUnpackedBytes
    }
}
