import Foundation

/// A failure of ``RotatingLogFile`` to create, write, rotate or prune its files.
///
/// Opening failures are thrown from ``RotatingLogFile/init(path:schedule:backupCount:timeZone:clock:onError:)``
/// so the server can refuse to start; later failures cannot be thrown from a log call and are
/// passed to the file's error callback instead. Each case names the file concerned and the
/// operating system's reason.
public enum RotatingLogFileError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The folder that should hold the log file could not be created.
    case cannotCreateDirectory(path: String, reason: String)
    /// The log file could not be opened for appending.
    case cannotOpen(path: String, reason: String)
    /// A line could not be written to the log file.
    case cannotWrite(path: String, reason: String)
    /// The log file could not be renamed to its rotated name; logging continues in the same file.
    case cannotRotate(path: String, target: String, reason: String)
    /// The folder could not be listed to find old rotated files.
    case cannotListDirectory(path: String, reason: String)
    /// An old rotated file beyond the backup count could not be deleted.
    case cannotDeleteBackup(path: String, reason: String)

    /// A one-line message naming the operation, the file and the reason.
    public var description: String {
        switch self {
        case .cannotCreateDirectory(let path, let reason):
            "cannot create log folder \(path): \(reason)"
        case .cannotOpen(let path, let reason):
            "cannot open log file \(path): \(reason)"
        case .cannotWrite(let path, let reason):
            "cannot write to log file \(path): \(reason)"
        case .cannotRotate(let path, let target, let reason):
            "cannot rotate log file \(path) to \(target): \(reason)"
        case .cannotListDirectory(let path, let reason):
            "cannot list log folder \(path) to prune old log files: \(reason)"
        case .cannotDeleteBackup(let path, let reason):
            "cannot delete old log file \(path): \(reason)"
        }
    }

    /// The same text as ``description``, for `localizedDescription`.
    public var errorDescription: String? { description }
}
