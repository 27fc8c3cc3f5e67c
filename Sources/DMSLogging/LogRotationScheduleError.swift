import Foundation

/// The error thrown when a log rotation setting (such as the `--log-rotation-time` option)
/// cannot be understood.
///
/// It carries the rejected text and a human-readable reason so a command-line front end can
/// print it verbatim and the user knows which forms are accepted.
public struct LogRotationScheduleError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The text that was rejected, exactly as given.
    public let input: String
    /// Why the text was rejected.
    public let reason: String

    /// Creates an error for `input`, rejected for `reason`.
    public init(input: String, reason: String) {
        self.input = input
        self.reason = reason
    }

    /// A one-line message naming the rejected text, the reason and the accepted forms.
    public var description: String {
        "invalid log rotation time \"\(input)\": \(reason); expected \"N S\", \"N M\", \"N H\" or \"N D\" "
            + "(N a positive integer, may be omitted for 1), \"W0\"...\"W6\" (0 = Monday) or \"midnight\""
    }

    /// The same text as ``description``, for `localizedDescription`.
    public var errorDescription: String? { description }
}
