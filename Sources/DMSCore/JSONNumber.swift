import Foundation

/// Reads numbers parsed by `JSONSerialization` exactly.
///
/// Foundation hands a JSON integer back as an `NSNumber` whose storage depends on its size: a
/// signed 64-bit integer, an unsigned one above `Int64.max` (whose `int64Value` wraps), or an
/// `NSDecimalNumber` below `Int64.min` or above `UInt64.max` (whose `doubleValue` rounds onto
/// `Int64.min`). These helpers tell exact integers, integers out of `Int64`'s range and other
/// values apart, so no caller silently wraps or rounds.
public enum JSONNumber {
    /// What a JSON value is as an integer.
    public enum Integer: Equatable {
        /// An integer that fits `Int64`.
        case exact(Int64)
        /// An integer beyond `Int64`'s range.
        case outOfRange
        /// A fraction, a boolean, or not a number at all.
        case notAnInteger
    }

    /// Whether `value` is a JSON boolean (`true`/`false`), which Foundation also gives as an
    /// `NSNumber`.
    public static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    public static func integer(_ value: Any) -> Integer {
        guard let number = value as? NSNumber, !isBoolean(value) else { return .notAnInteger }
        if let decimal = value as? NSDecimalNumber {
            return integer(decimal.decimalValue)
        }
        switch String(cString: number.objCType) {
        case "q", "l", "i", "s":
            return .exact(number.int64Value)
        case "Q", "L", "I", "S":
            return number.uint64Value <= UInt64(Int64.max) ? .exact(Int64(number.uint64Value)) : .outOfRange
        default:
            let double = number.doubleValue
            guard double.isFinite, double == double.rounded() else { return .notAnInteger }
            // 2^63 and beyond are integers too, just not `Int64`s.
            return Int64(exactly: double).map(Integer.exact) ?? .outOfRange
        }
    }

    private static func integer(_ decimal: Decimal) -> Integer {
        var source = decimal
        var rounded = Decimal()
        NSDecimalRound(&rounded, &source, 0, .plain)
        guard rounded == decimal else { return .notAnInteger }
        guard decimal >= Decimal(Int64.min), decimal <= Decimal(Int64.max) else { return .outOfRange }
        return .exact(NSDecimalNumber(decimal: decimal).int64Value)
    }
}
