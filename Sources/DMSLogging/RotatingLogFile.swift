import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A log file that many threads append whole lines to, rotated on a time schedule the way
/// Python's `logging.handlers.TimedRotatingFileHandler` does it.
///
/// The server logs to one file (`--log-file`) that must not grow forever and must not lose
/// lines if the process dies, so this type:
///
/// - creates the file's parent folder if needed and opens the file for appending;
/// - writes each line with a single unbuffered system call under a lock, so lines from
///   concurrent threads never interleave and every written line survives a crash;
/// - when the clock reaches the next rollover (see ``LogRotationSchedule``) at the time of a
///   write, renames the file to `NAME.<suffix>` (replacing a file of that name, as Python
///   does), opens a fresh `NAME`, and, if `backupCount` is positive, deletes the oldest
///   rotated files beyond that many. The suffix is the start of the period that just ended,
///   formatted with the schedule's ``LogRotationSchedule/suffixPattern`` (for hourly rotation
///   `dms_app.log.2026-11-25_10`);
/// - like Python, starts the first period at the existing file's modification time (if the
///   file already exists and is not newer than the clock), so a restarted server still
///   rotates yesterday's file at the first write;
/// - never renames something that is not a regular file (such as `/dev/stdout`).
///
/// Time comes from an injected clock so rotation can be tested without waiting.
public final class RotatingLogFile: Sendable {
    /// The absolute path of the live log file.
    public let path: String
    /// When the file rotates, or `nil` to never rotate.
    public let schedule: LogRotationSchedule?
    /// How many rotated files to keep; 0 keeps all of them.
    public let backupCount: Int
    /// The zone whose midnights and weekdays drive rotation and name the rotated files.
    public let timeZone: TimeZone

    private let directory: String
    private let fileName: String
    private let calendar: Calendar
    private let clock: @Sendable () -> Date
    private let onError: @Sendable (RotatingLogFileError) -> Void
    /// Guards `state`. An `NSLock` (a pthread mutex) rather than `Synchronization.Mutex`: every
    /// thread that logs contends for this lock, and Mutex's contended path (a futex inside the
    /// standard library, which is not instrumented) hides the hand-over from ThreadSanitizer, which
    /// then reports the state as racing; a pthread mutex it sees (`scripts/sanitize.sh thread`).
    private let lock = NSLock()
    nonisolated(unsafe) private var state: RotatingLogFileState

    /// Opens (creating it and its folder if needed) the log file at `path` for appending.
    ///
    /// - Parameters:
    ///   - path: The log file; a relative path is taken from the current directory.
    ///   - schedule: When to rotate; `nil` never rotates.
    ///   - backupCount: How many rotated files to keep; 0 (or less) keeps all of them.
    ///   - timeZone: The zone for midnights, weekdays and rotated names (Python uses local time).
    ///   - clock: The current time; tests inject a controllable one.
    ///   - onError: Receives failures that happen while writing or rotating, which cannot be
    ///     thrown from a log call; by default they are printed to standard error.
    /// - Throws: ``RotatingLogFileError`` if the folder cannot be created or the file cannot be opened.
    public init(
        path: String,
        schedule: LogRotationSchedule? = nil,
        backupCount: Int = 0,
        timeZone: TimeZone = .current,
        clock: @escaping @Sendable () -> Date = { Date() },
        onError: @escaping @Sendable (RotatingLogFileError) -> Void = RotatingLogFile.reportToStandardError
    ) throws(RotatingLogFileError) {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        self.path = url.path
        self.directory = url.deletingLastPathComponent().path
        self.fileName = url.lastPathComponent
        self.schedule = schedule
        self.backupCount = max(0, backupCount)
        self.timeZone = timeZone
        self.calendar = LogTimestampFormatter.gregorianCalendar(in: timeZone)
        self.clock = clock
        self.onError = onError

        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotCreateDirectory(path: directory, reason: error.localizedDescription)
        }
        let now = clock()
        var periodStart = now
        if let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
            let modified = attributes[.modificationDate] as? Date
        {
            periodStart = min(modified, now)
        }
        let file = try AppendOnlyFile(path: url.path)
        let rolloverAt = schedule?.nextRollover(after: periodStart, timeZone: timeZone)
        self.state = RotatingLogFileState(file: file, rolloverAt: rolloverAt)
    }

    deinit {
        lock.withLock {
            state.file?.closeFile()
            state.file = nil
        }
    }

    /// When the next rotation is due, or `nil` if the file never rotates.
    public var nextRollover: Date? {
        lock.withLock { state.rolloverAt }
    }

    /// Appends `line` (a newline is added unless it already ends with one), first rotating
    /// the file if the clock has reached the next rollover.
    ///
    /// Safe to call from any number of threads at once: each line is written whole. Failures
    /// are passed to the `onError` callback; a failed rotation leaves logging in the current file.
    public func write(_ line: String) {
        var bytes = Array(line.utf8)
        if bytes.last != UInt8(ascii: "\n") {
            bytes.append(UInt8(ascii: "\n"))
        }
        let failures = lock.withLock {
            var failures: [RotatingLogFileError] = []
            let now = clock()
            if let rolloverAt = state.rolloverAt, now >= rolloverAt {
                rollOver(&state, dueAt: rolloverAt, now: now, failures: &failures)
            }
            do throws(RotatingLogFileError) {
                if state.file == nil {
                    state.file = try AppendOnlyFile(path: path)
                }
                try state.file?.append(bytes)
            } catch {
                failures.append(error)
            }
            return failures
        }
        failures.forEach(onError)
    }

    /// The default error callback: prints the error on one line to standard error.
    public static func reportToStandardError(_ error: RotatingLogFileError) {
        try? FileHandle.standardError.write(contentsOf: Data("DMSLogging: \(error)\n".utf8))
    }

    private func rollOver(
        _ state: inout RotatingLogFileState,
        dueAt rolloverAt: Date,
        now: Date,
        failures: inout [RotatingLogFileError]
    ) {
        guard let schedule else { return }
        state.rolloverAt = schedule.nextRollover(after: now, timeZone: timeZone)
        guard Self.isRegularFileOrMissing(path) else { return }

        let periodStart = schedule.periodStart(endingAt: rolloverAt, timeZone: timeZone)
        let target = path + "." + schedule.suffix.format(periodStart, calendar: calendar)
        state.file?.closeFile()
        state.file = nil
        if rename(path, target) != 0, errno != ENOENT {
            failures.append(.cannotRotate(path: path, target: target, reason: AppendOnlyFile.lastErrorReason()))
            return
        }
        if backupCount > 0 {
            deleteOldBackups(suffix: schedule.suffix, failures: &failures)
        }
    }

    private func deleteOldBackups(suffix: LogRotationSuffix, failures: inout [RotatingLogFileError]) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            failures.append(.cannotListDirectory(path: directory, reason: error.localizedDescription))
            return
        }
        let prefix = fileName + "."
        let backups = names.filter { name in
            name.hasPrefix(prefix) && suffix.matches(name.dropFirst(prefix.count))
        }
        for name in backups.sorted().dropLast(backupCount) {
            let backup = directory + "/" + name
            if unlink(backup) != 0, errno != ENOENT {
                failures.append(.cannotDeleteBackup(path: backup, reason: AppendOnlyFile.lastErrorReason()))
            }
        }
    }

    private static func isRegularFileOrMissing(_ path: String) -> Bool {
        var information = stat()
        guard stat(path, &information) == 0 else { return true }
        return (information.st_mode & S_IFMT) == S_IFREG
    }
}
