import Foundation

/// When a log file is rotated, parsed from the server's `--log-rotation-time` option.
///
/// The accepted forms and the rotation times follow Python's
/// `logging.handlers.TimedRotatingFileHandler`, which the original server used, so existing
/// deployments keep their settings and their rotated file names:
///
/// | text | rotation |
/// | --- | --- |
/// | `"N S"`, `"N M"`, `"N H"`, `"N D"` | every N seconds, minutes, hours or days, counted from when the current file was started |
/// | `"S"`, `"M"`, `"H"`, `"D"` | the same with N = 1 |
/// | `"midnight"` | at every local midnight |
/// | `"W0"` … `"W6"` | weekly, at the midnight that ends that weekday (0 = Monday … 6 = Sunday) |
///
/// N is a positive decimal integer; the space between N and the unit is optional, and units
/// are case-insensitive (`"2 d"`, `"30m"`, `"MIDNIGHT"`, `"w6"`). Surrounding whitespace is ignored.
///
/// Like Python (when no `atTime` is given), `W0` rotates at 00:00 between Monday and Tuesday:
/// the rotated file then holds the week that ended with that Monday.
public struct LogRotationSchedule: Sendable, Hashable, CustomStringConvertible {
    /// What kind of rotation this is.
    public let rule: LogRotationRule

    /// Creates a schedule from an already-structured rule.
    ///
    /// - Throws: ``LogRotationScheduleError`` if a count is not positive or a weekday is outside 0...6.
    public init(rule: LogRotationRule) throws {
        switch rule {
        case .seconds(let count), .minutes(let count), .hours(let count), .days(let count):
            guard count > 0 else {
                throw LogRotationScheduleError(input: Self.text(of: rule), reason: "the count must be a positive integer")
            }
        case .weekly(let weekday):
            guard (0...6).contains(weekday) else {
                throw LogRotationScheduleError(input: Self.text(of: rule), reason: "the weekday must be 0 (Monday) to 6 (Sunday)")
            }
        case .midnight:
            break
        }
        self.rule = rule
    }

    /// Parses a rotation setting such as `"1 H"`, `"30 M"`, `"midnight"` or `"W0"`.
    ///
    /// - Throws: ``LogRotationScheduleError`` for anything that is not one of the accepted forms,
    ///   including `"0 H"`, `"-1 H"`, `"W7"`, `"5 X"`, `""` and `"1 H extra"`.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw LogRotationScheduleError(input: text, reason: "it is empty")
        }
        let upper = trimmed.uppercased()
        if upper == "MIDNIGHT" {
            try self.init(rule: .midnight)
            return
        }
        if upper.hasPrefix("W") {
            let day = upper.dropFirst()
            guard day.count == 1, let weekday = Int(day), (0...6).contains(weekday) else {
                throw LogRotationScheduleError(input: text, reason: "a weekly rotation is W0 (Monday) to W6 (Sunday)")
            }
            try self.init(rule: .weekly(weekday: weekday))
            return
        }
        let digits = upper.prefix { $0.isASCII && $0.isNumber }
        let unit = upper[digits.endIndex...].trimmingCharacters(in: .whitespaces)
        let count: Int
        if digits.isEmpty {
            count = 1
        } else if let parsed = Int(digits) {
            count = parsed
        } else {
            throw LogRotationScheduleError(input: text, reason: "the count is too large")
        }
        guard count > 0 else {
            throw LogRotationScheduleError(input: text, reason: "the count must be a positive integer")
        }
        switch unit {
        case "S": try self.init(rule: .seconds(count))
        case "M": try self.init(rule: .minutes(count))
        case "H": try self.init(rule: .hours(count))
        case "D": try self.init(rule: .days(count))
        default:
            throw LogRotationScheduleError(input: text, reason: "\"\(unit)\" is not a unit (S, M, H or D)")
        }
    }

    /// The canonical text of this schedule, which ``init(parsing:)`` accepts back
    /// (for example `"1 H"`, `"midnight"`, `"W0"`).
    public var description: String { Self.text(of: rule) }

    /// The nominal length of one rotation period in seconds: the count times the unit,
    /// one day for `midnight` and one week for `Wn`.
    public var interval: TimeInterval {
        switch rule {
        case .seconds(let count): Double(count)
        case .minutes(let count): Double(count) * 60
        case .hours(let count): Double(count) * 3_600
        case .days(let count): Double(count) * 86_400
        case .midnight: 86_400
        case .weekly: 7 * 86_400
        }
    }

    /// The strftime pattern of the date suffix given to rotated files, as in Python:
    /// `%Y-%m-%d_%H-%M-%S` for seconds, `%Y-%m-%d_%H-%M` for minutes, `%Y-%m-%d_%H` for hours
    /// and `%Y-%m-%d` for days, midnight and weekly rotation.
    public var suffixPattern: String { suffix.pattern }

    /// When the next rotation happens if the current period started at `date`.
    ///
    /// - Interval forms (`N S/M/H/D`): exactly `date + interval`.
    /// - `midnight`: the first local midnight strictly after `date`.
    /// - `Wn`: the first local midnight strictly after `date` that ends weekday n.
    ///
    /// - Parameters:
    ///   - date: The start of the current period (when the file was opened or last rotated).
    ///   - timeZone: The zone whose midnights and weekdays count; pass a fixed zone for
    ///     reproducible results. Python's handler uses local time, hence the default.
    public func nextRollover(after date: Date, timeZone: TimeZone = .current) -> Date {
        let calendar = LogTimestampFormatter.gregorianCalendar(in: timeZone)
        switch rule {
        case .seconds, .minutes, .hours, .days:
            return date.addingTimeInterval(interval)
        case .midnight:
            return Self.firstMidnight(after: date, calendar: calendar)
        case .weekly(let weekday):
            var candidate = Self.firstMidnight(after: date, calendar: calendar)
            while Self.mondayBasedWeekday(of: candidate.addingTimeInterval(-1), calendar: calendar) != weekday {
                candidate = Self.firstMidnight(after: candidate, calendar: calendar)
            }
            return candidate
        }
    }

    /// The start of the period that ends at `rollover`, whose time names the rotated file
    /// (Python's `rolloverAt - interval`, taken in calendar days for midnight and weekly rotation).
    func periodStart(endingAt rollover: Date, timeZone: TimeZone) -> Date {
        let calendar = LogTimestampFormatter.gregorianCalendar(in: timeZone)
        switch rule {
        case .seconds, .minutes, .hours, .days:
            return rollover.addingTimeInterval(-interval)
        case .midnight:
            return calendar.date(byAdding: .day, value: -1, to: rollover) ?? rollover.addingTimeInterval(-interval)
        case .weekly:
            return calendar.date(byAdding: .day, value: -7, to: rollover) ?? rollover.addingTimeInterval(-interval)
        }
    }

    /// The date suffix that rotated files get under this schedule.
    var suffix: LogRotationSuffix {
        switch rule {
        case .seconds: .second
        case .minutes: .minute
        case .hours: .hour
        case .days, .midnight, .weekly: .day
        }
    }

    private static func text(of rule: LogRotationRule) -> String {
        switch rule {
        case .seconds(let count): "\(count) S"
        case .minutes(let count): "\(count) M"
        case .hours(let count): "\(count) H"
        case .days(let count): "\(count) D"
        case .midnight: "midnight"
        case .weekly(let weekday): "W\(weekday)"
        }
    }

    private static func firstMidnight(after date: Date, calendar: Calendar) -> Date {
        let startOfDay = calendar.startOfDay(for: date)
        let nextDay = calendar.date(byAdding: .day, value: 1, to: startOfDay) ?? startOfDay.addingTimeInterval(86_400)
        return calendar.startOfDay(for: nextDay)
    }

    private static func mondayBasedWeekday(of date: Date, calendar: Calendar) -> Int {
        (calendar.component(.weekday, from: date) + 5) % 7
    }
}
