import DMSLogging
import Foundation
import Testing

/// Expected values for `midnight` and `Wn` were produced by Python 3.11's
/// `TimedRotatingFileHandler(..., utc=True).computeRollover`.
@Suite("Next rollover time")
struct NextRolloverTests {
    @Test(
        "interval forms add the interval to the start, across day, month and year boundaries",
        arguments: [
            ("1 S", "2026-11-25 10:36:23", "2026-11-25 10:36:24"),
            ("30 S", "2026-11-25 23:59:45", "2026-11-26 00:00:15"),
            ("1 M", "2026-11-25 10:36:23", "2026-11-25 10:37:23"),
            ("30 M", "2026-12-31 23:45:00", "2027-01-01 00:15:00"),
            ("1 H", "2026-11-25 10:36:23", "2026-11-25 11:36:23"),
            ("1 H", "2026-11-25 23:30:00", "2026-11-26 00:30:00"),
            ("H", "2026-11-29 23:59:59", "2026-11-30 00:59:59"),
            ("1 D", "2026-11-25 10:36:23", "2026-11-26 10:36:23"),
            ("2 D", "2026-11-30 12:00:00", "2026-12-02 12:00:00"),
            ("7 D", "2026-12-28 06:00:00", "2027-01-04 06:00:00"),
        ]
    )
    func intervals(rotation: String, start: String, expected: String) throws {
        let schedule = try LogRotationSchedule(parsing: rotation)
        #expect(schedule.nextRollover(after: UTC.date(start), timeZone: UTC.zone) == UTC.date(expected))
    }

    @Test(
        "midnight is the first midnight strictly after the start",
        arguments: [
            ("2026-11-25 10:36:23", "2026-11-26 00:00:00"),
            ("2026-11-29 23:59:59", "2026-11-30 00:00:00"),
            ("2026-11-30 00:00:00", "2026-12-01 00:00:00"),
            ("2026-12-31 23:30:00", "2027-01-01 00:00:00"),
            ("2026-12-01 00:00:00", "2026-12-02 00:00:00"),
            ("2028-02-28 12:00:00", "2028-02-29 00:00:00"),
        ]
    )
    func midnight(start: String, expected: String) throws {
        let schedule = try LogRotationSchedule(parsing: "midnight")
        #expect(schedule.nextRollover(after: UTC.date(start), timeZone: UTC.zone) == UTC.date(expected))
    }

    /// Starts: Wednesday 10:36, Sunday 23:59:59, Monday 00:00 exactly, Thursday before New Year,
    /// Tuesday 00:00 exactly. Expected: W0...W6 in order.
    @Test(
        "Wn is the first midnight strictly after the start that ends weekday n",
        arguments: [
            (
                "2026-11-25 10:36:23",
                [
                    "2026-12-01 00:00:00", "2026-12-02 00:00:00", "2026-11-26 00:00:00", "2026-11-27 00:00:00",
                    "2026-11-28 00:00:00", "2026-11-29 00:00:00", "2026-11-30 00:00:00",
                ]
            ),
            (
                "2026-11-29 23:59:59",
                [
                    "2026-12-01 00:00:00", "2026-12-02 00:00:00", "2026-12-03 00:00:00", "2026-12-04 00:00:00",
                    "2026-12-05 00:00:00", "2026-12-06 00:00:00", "2026-11-30 00:00:00",
                ]
            ),
            (
                "2026-11-30 00:00:00",
                [
                    "2026-12-01 00:00:00", "2026-12-02 00:00:00", "2026-12-03 00:00:00", "2026-12-04 00:00:00",
                    "2026-12-05 00:00:00", "2026-12-06 00:00:00", "2026-12-07 00:00:00",
                ]
            ),
            (
                "2026-12-31 23:30:00",
                [
                    "2027-01-05 00:00:00", "2027-01-06 00:00:00", "2027-01-07 00:00:00", "2027-01-01 00:00:00",
                    "2027-01-02 00:00:00", "2027-01-03 00:00:00", "2027-01-04 00:00:00",
                ]
            ),
            (
                "2026-12-01 00:00:00",
                [
                    "2026-12-08 00:00:00", "2026-12-02 00:00:00", "2026-12-03 00:00:00", "2026-12-04 00:00:00",
                    "2026-12-05 00:00:00", "2026-12-06 00:00:00", "2026-12-07 00:00:00",
                ]
            ),
        ]
    )
    func weekly(start: String, expectedByWeekday: [String]) throws {
        for weekday in 0...6 {
            let schedule = try LogRotationSchedule(parsing: "W\(weekday)")
            let next = schedule.nextRollover(after: UTC.date(start), timeZone: UTC.zone)
            #expect(next == UTC.date(expectedByWeekday[weekday]), "W\(weekday) from \(start)")
        }
    }

    @Test("midnight and weekdays are taken in the injected time zone")
    func injectedTimeZone() throws {
        let plusFive = try #require(TimeZone(secondsFromGMT: 5 * 3_600))
        let start = UTC.date("2026-11-25 20:00:00")
        let midnight = try LogRotationSchedule(parsing: "midnight")
        #expect(midnight.nextRollover(after: start, timeZone: plusFive) == UTC.date("2026-11-26 19:00:00"))
        #expect(midnight.nextRollover(after: start, timeZone: UTC.zone) == UTC.date("2026-11-26 00:00:00"))

        let thursday = try LogRotationSchedule(parsing: "W3")
        #expect(thursday.nextRollover(after: start, timeZone: plusFive) == UTC.date("2026-11-26 19:00:00"))
        #expect(thursday.nextRollover(after: start, timeZone: UTC.zone) == UTC.date("2026-11-27 00:00:00"))
    }

    @Test("midnight follows local midnights across a daylight-saving change")
    func daylightSaving() throws {
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        let midnight = try LogRotationSchedule(parsing: "midnight")
        let beforeChange = UTC.date("2026-03-07 17:00:00")
        let afterChange = UTC.date("2026-03-08 16:00:00")
        #expect(midnight.nextRollover(after: beforeChange, timeZone: newYork) == UTC.date("2026-03-08 05:00:00"))
        #expect(midnight.nextRollover(after: afterChange, timeZone: newYork) == UTC.date("2026-03-09 04:00:00"))
    }
}
