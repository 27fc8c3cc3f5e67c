import Foundation
import Logging

/// A log level named as in Python's `logging` module, parsed from the server's `--log-level` option.
///
/// The server's settings and documentation use Python's level names, so this type accepts
/// them (case-insensitively, with `WARN` as an alias of `WARNING`) and maps each to the
/// closest swift-log level:
///
/// | name | `Logger.Level` |
/// | --- | --- |
/// | `NOTSET` | `.trace` (everything is logged) |
/// | `DEBUG` | `.debug` |
/// | `INFO` | `.info` |
/// | `WARNING`, `WARN` | `.warning` |
/// | `ERROR` | `.error` |
/// | `CRITICAL` | `.critical` |
public enum DMSLogLevel: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Log everything.
    case notset = "NOTSET"
    /// Diagnostic detail.
    case debug = "DEBUG"
    /// Normal operation.
    case info = "INFO"
    /// Something unexpected that the server survives.
    case warning = "WARNING"
    /// A failed operation.
    case error = "ERROR"
    /// A failure the server may not survive.
    case critical = "CRITICAL"

    /// Parses a level name such as `"INFO"`, `"warning"` or `"WARN"`; surrounding whitespace is ignored.
    ///
    /// - Throws: ``DMSLogLevelError`` naming the valid levels if `name` is not one of them.
    public init(parsing name: String) throws {
        let normalized = name.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        if normalized == "WARN" {
            self = .warning
        } else if let level = DMSLogLevel(rawValue: normalized) {
            self = level
        } else {
            throw DMSLogLevelError(name: name)
        }
    }

    /// The swift-log level with the same meaning.
    public var loggerLevel: Logger.Level {
        switch self {
        case .notset: .trace
        case .debug: .debug
        case .info: .info
        case .warning: .warning
        case .error: .error
        case .critical: .critical
        }
    }

    /// The canonical (Python) name, e.g. `"WARNING"`.
    public var description: String { rawValue }
}
