import Foundation

/// Builds fixed instants from readable UTC text, so expected times in tests read like the
/// values they stand for.
enum UTC {
    /// The UTC time zone.
    static let zone = TimeZone(identifier: "UTC")!

    /// The instant written as `yyyy-MM-dd HH:mm:ss`, optionally followed by `.SSS`, in UTC.
    static func date(_ text: String) -> Date {
        let parts = text.split(separator: ".")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        guard let whole = formatter.date(from: String(parts[0])) else {
            fatalError("not a test date: \(text)")
        }
        let milliseconds = parts.count > 1 ? Double(parts[1]) ?? 0 : 0
        return whole.addingTimeInterval(milliseconds / 1000)
    }
}
