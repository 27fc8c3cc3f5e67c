import Foundation

/// The mutable part of a ``RotatingLogFile``, only ever touched while holding its lock.
struct RotatingLogFileState: Sendable {
    /// The open file, or `nil` after a failed reopen (retried on the next write).
    var file: AppendOnlyFile?
    /// When the next rotation is due, or `nil` if the file never rotates.
    var rolloverAt: Date?
}
