import Foundation

/// Formats log-line timestamps as `yyyy-MM-dd HH:mm:ss.SSS` in a fixed time zone.
///
/// A hand-rolled formatter over a Gregorian `Calendar` is used instead of `DateFormatter`
/// because it is a `Sendable` value that many threads can share without locking, and its
/// output does not depend on the process locale.
struct LogTimestampFormatter: Sendable {
    /// The Gregorian calendar, in the formatter's time zone, used to split dates into fields.
    let calendar: Calendar

    /// Creates a formatter that shows times in `timeZone`.
    init(timeZone: TimeZone) {
        calendar = Self.gregorianCalendar(in: timeZone)
    }

    /// A Gregorian calendar in `timeZone`, independent of the user's locale settings.
    static func gregorianCalendar(in timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        calendar.locale = Locale(identifier: "en_US_POSIX")
        return calendar
    }

    /// `value` in decimal, left-padded with zeros to at least `width` digits.
    static func padded(_ value: Int, width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// `date` as `yyyy-MM-dd HH:mm:ss.SSS`, rounded to the nearest millisecond.
    func lineTimestamp(_ date: Date) -> String {
        let totalMilliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        let wholeSeconds = (totalMilliseconds / 1000).rounded(.down)
        let milliseconds = Int(totalMilliseconds - wholeSeconds * 1000)
        let parts = calendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second],
            from: Date(timeIntervalSince1970: wholeSeconds)
        )
        return Self.padded(parts.year ?? 0, width: 4) + "-"
            + Self.padded(parts.month ?? 0, width: 2) + "-"
            + Self.padded(parts.day ?? 0, width: 2) + " "
            + Self.padded(parts.hour ?? 0, width: 2) + ":"
            + Self.padded(parts.minute ?? 0, width: 2) + ":"
            + Self.padded(parts.second ?? 0, width: 2) + "."
            + Self.padded(milliseconds, width: 3)
    }
}
