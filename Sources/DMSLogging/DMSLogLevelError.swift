import Foundation

/// The error thrown when a log level name (such as the `--log-level` option) is not recognised.
///
/// Its message lists every valid name so the user can correct the setting without looking
/// anything up.
public struct DMSLogLevelError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The name that was rejected, exactly as given.
    public let name: String

    /// Creates an error for the rejected `name`.
    public init(name: String) {
        self.name = name
    }

    /// A one-line message naming the rejected level and listing the valid ones.
    public var description: String {
        "invalid log level \"\(name)\"; valid levels are "
            + DMSLogLevel.allCases.map(\.rawValue).joined(separator: ", ")
            + " (WARN is accepted for WARNING; case does not matter)"
    }

    /// The same text as ``description``, for `localizedDescription`.
    public var errorDescription: String? { description }
}
