/// The kind of rotation a ``LogRotationSchedule`` performs, mirroring the `when` values of
/// Python's `logging.handlers.TimedRotatingFileHandler`.
///
/// The unit is kept (rather than collapsing everything to seconds) because it decides the
/// name of rotated files: `60 S` and `1 M` rotate equally often but produce
/// `%Y-%m-%d_%H-%M-%S` and `%Y-%m-%d_%H-%M` suffixes respectively, exactly as in Python.
public enum LogRotationRule: Sendable, Hashable {
    /// Rotate every `count` seconds (`"N S"`).
    case seconds(Int)
    /// Rotate every `count` minutes (`"N M"`).
    case minutes(Int)
    /// Rotate every `count` hours (`"N H"`).
    case hours(Int)
    /// Rotate every `count` days of 24 hours, counted from when the file was started (`"N D"`).
    case days(Int)
    /// Rotate at every local midnight (`"midnight"`).
    case midnight
    /// Rotate once a week at the midnight that ends the given weekday
    /// (`"W0"` … `"W6"`, 0 = Monday … 6 = Sunday).
    case weekly(weekday: Int)
}
