import Foundation
import Synchronization

/// A settable clock shared between a test and the code under test, so rotation can be
/// driven forward without sleeping.
final class TestClock: Sendable {
    private let current: Mutex<Date>
    private let tick: TimeInterval

    /// Starts at `start`; every reading advances the clock by `tick` seconds afterwards.
    init(_ start: Date, tick: TimeInterval = 0) {
        current = Mutex(start)
        self.tick = tick
    }

    /// The current time (then advanced by the tick, if any).
    func now() -> Date {
        current.withLock { date in
            defer { date = date.addingTimeInterval(tick) }
            return date
        }
    }

    /// Moves the clock to `date`.
    func set(_ date: Date) {
        current.withLock { $0 = date }
    }

    /// A `@Sendable` closure reading this clock, as the code under test expects.
    var closure: @Sendable () -> Date {
        { self.now() }
    }
}
