import DMSCore
import NIOPosix

/// Where request work that takes milliseconds of CPU runs: parsing a large body, encoding
/// large outputs (JPEG images).
///
/// Such work is moved off Swift's cooperative pool, which has one thread per core and runs the
/// async code of every request and connection: a 10 MiB JSON parse there holds up every other
/// request for its whole length, and two at once stall the server on a 2-core machine. NIO's
/// pool for blocking work has threads of its own; the hop costs microseconds, so only work on
/// inputs or outputs of `thresholdBytes` or more is moved.
public enum BlockingWork {
    /// Work on bodies, requests or outputs of this many bytes or more is worth moving (the HTTP
    /// layer parses such bodies there, the tensor service reads and answers such requests there);
    /// below it, the work takes less than the hop (a JSON parse runs at about 100 MB/s).
    public static let thresholdBytes = 64 * 1024

    /// Runs `work` on the blocking pool when `isHeavy`, else right here.
    public static func run<Value: Sendable>(
        isHeavy: Bool, _ work: @escaping @Sendable () throws(DMSError) -> Value
    ) async throws(DMSError) -> Value {
        guard isHeavy else { return try work() }
        do {
            return try await NIOThreadPool.singleton.runIfActive { try work() }
        } catch let error as DMSError {
            throw error
        } catch {
            throw DMSError(.internalError, "the pool for blocking work refused the work: \(error)", cause: error)
        }
    }
}
