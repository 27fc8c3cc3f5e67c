import Foundation
import Logging

/// The server's swift-log backend: writes one text line per log event to a
/// ``RotatingLogFile`` and/or standard error.
///
/// Every line has the form
///
/// ```text
/// 2026-11-25 10:36:23.123 INFO [dms.server] model loaded key=value other=value
/// ```
///
/// that is: the local date and time with milliseconds (in the handler's time zone), the level
/// in capitals (`TRACE`, `DEBUG`, `INFO`, `NOTICE`, `WARNING`, `ERROR`, `CRITICAL`), the logger
/// label in brackets, the message, then the metadata as `key=value` pairs sorted by key.
/// Metadata merges, later winning, the handler's own, the metadata provider's and the log
/// call's; an error passed to the call adds `error.message` and `error.type`. The format
/// is close to the original Python server's, so existing log readers keep working.
///
/// The handler is a value, as swift-log requires: changing the level or metadata of one
/// `Logger` does not affect another. Filtering by ``logLevel`` is done by `Logger` itself.
public struct DMSLogHandler: LogHandler {
    /// The label of the logger this handler serves, shown in brackets on each line.
    public let label: String
    /// The least severe level that is written.
    public var logLevel: Logger.Level
    /// Metadata added to every line written through this handler.
    public var metadata: Logger.Metadata
    /// Supplies contextual metadata (for example from task-locals) for each line.
    public var metadataProvider: Logger.MetadataProvider?

    private let logFile: RotatingLogFile?
    private let toStandardError: Bool
    private let formatter: LogTimestampFormatter
    private let clock: @Sendable () -> Date

    /// Creates a handler for the logger labelled `label`.
    ///
    /// - Parameters:
    ///   - label: The logger's label.
    ///   - logFile: The file to write to, or `nil` for none.
    ///   - toStandardError: Whether to also write each line to standard error.
    ///   - level: The least severe level written.
    ///   - timeZone: The zone of the timestamps (local time by default, as in Python).
    ///   - metadataProvider: Contextual metadata for each line, if any.
    ///   - clock: The time stamped on each line; tests inject a fixed one.
    public init(
        label: String,
        logFile: RotatingLogFile?,
        toStandardError: Bool,
        level: Logger.Level = .info,
        timeZone: TimeZone = .current,
        metadataProvider: Logger.MetadataProvider? = nil,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.label = label
        self.logLevel = level
        self.metadata = [:]
        self.metadataProvider = metadataProvider
        self.logFile = logFile
        self.toStandardError = toStandardError
        self.formatter = LogTimestampFormatter(timeZone: timeZone)
        self.clock = clock
    }

    /// Gets or sets one key of this handler's ``metadata``.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Formats `event` as one line and writes it to each destination.
    public func log(event: LogEvent) {
        let line = formatLine(event, at: clock())
        logFile?.write(line)
        if toStandardError {
            try? FileHandle.standardError.write(contentsOf: Data((line + "\n").utf8))
        }
    }

    /// The line (without a trailing newline) written for `event` logged at `date`.
    func formatLine(_ event: LogEvent, at date: Date) -> String {
        var merged = metadata
        if let provided = metadataProvider?.get() {
            merged.merge(provided) { _, provided in provided }
        }
        if let explicit = event.metadata {
            merged.merge(explicit) { _, explicit in explicit }
        }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        var line = formatter.lineTimestamp(date) + " " + Self.levelName(event.level) + " [" + label + "] "
            + event.message.description
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(value)"
        }
        return line
    }

    /// A factory for `LoggingSystem.bootstrap` that gives every logger a handler writing to
    /// `logFile` and/or standard error at `level`.
    public static func factory(
        logFile: RotatingLogFile?,
        level: Logger.Level,
        toStandardError: Bool,
        timeZone: TimeZone = .current
    ) -> @Sendable (String, Logger.MetadataProvider?) -> any LogHandler {
        { label, metadataProvider in
            DMSLogHandler(
                label: label,
                logFile: logFile,
                toStandardError: toStandardError,
                level: level,
                timeZone: timeZone,
                metadataProvider: metadataProvider
            )
        }
    }

    /// Installs this handler as the process-wide logging backend (`LoggingSystem.bootstrap`).
    ///
    /// Call it once, early in `main`, e.g. with the parsed `--log-file`, `--log-rotation-time`
    /// and `--log-level` options; swift-log allows only one bootstrap per process.
    public static func bootstrap(
        logFile: RotatingLogFile?,
        level: Logger.Level,
        toStandardError: Bool,
        timeZone: TimeZone = .current,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        LoggingSystem.bootstrap(
            factory(logFile: logFile, level: level, toStandardError: toStandardError, timeZone: timeZone),
            metadataProvider: metadataProvider
        )
    }

    private static func levelName(_ level: Logger.Level) -> String {
        switch level {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .notice: "NOTICE"
        case .warning: "WARNING"
        case .error: "ERROR"
        case .critical: "CRITICAL"
        }
    }
}
