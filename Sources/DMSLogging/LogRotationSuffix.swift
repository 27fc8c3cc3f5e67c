import Foundation

/// The date suffix appended to rotated log files, with the precision Python's
/// `TimedRotatingFileHandler` uses for each rotation unit.
///
/// Kept separate so that naming a rotated file and recognising one (when pruning old
/// backups) always agree on the same pattern.
enum LogRotationSuffix: Sendable, Equatable {
    /// `%Y-%m-%d_%H-%M-%S`
    case second
    /// `%Y-%m-%d_%H-%M`
    case minute
    /// `%Y-%m-%d_%H`
    case hour
    /// `%Y-%m-%d`
    case day

    /// The strftime-style pattern this suffix follows.
    var pattern: String {
        switch self {
        case .second: "%Y-%m-%d_%H-%M-%S"
        case .minute: "%Y-%m-%d_%H-%M"
        case .hour: "%Y-%m-%d_%H"
        case .day: "%Y-%m-%d"
        }
    }

    /// The shape of the suffix, `#` standing for one ASCII digit.
    private var shape: String {
        switch self {
        case .second: "####-##-##_##-##-##"
        case .minute: "####-##-##_##-##"
        case .hour: "####-##-##_##"
        case .day: "####-##-##"
        }
    }

    /// Formats `date`, as seen in `calendar`'s time zone, with this suffix's precision.
    func format(_ date: Date, calendar: Calendar) -> String {
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        var text = LogTimestampFormatter.padded(parts.year ?? 0, width: 4) + "-"
            + LogTimestampFormatter.padded(parts.month ?? 0, width: 2) + "-"
            + LogTimestampFormatter.padded(parts.day ?? 0, width: 2)
        if self == .day { return text }
        text += "_" + LogTimestampFormatter.padded(parts.hour ?? 0, width: 2)
        if self == .hour { return text }
        text += "-" + LogTimestampFormatter.padded(parts.minute ?? 0, width: 2)
        if self == .minute { return text }
        return text + "-" + LogTimestampFormatter.padded(parts.second ?? 0, width: 2)
    }

    /// Whether `text` has exactly the shape this suffix produces.
    func matches(_ text: Substring) -> Bool {
        guard text.utf8.count == shape.utf8.count else { return false }
        return zip(text.utf8, shape.utf8).allSatisfy { character, expected in
            expected == UInt8(ascii: "#")
                ? (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(character)
                : character == expected
        }
    }
}
