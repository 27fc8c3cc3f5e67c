import DMSLogging
import Testing

@Suite("Parsing --log-rotation-time")
struct LogRotationScheduleTests {
    @Test(
        "accepted forms",
        arguments: [
            ("1 H", LogRotationRule.hours(1)),
            ("30 M", .minutes(30)),
            ("2 d", .days(2)),
            ("15 s", .seconds(15)),
            ("45 S", .seconds(45)),
            ("10 m", .minutes(10)),
            ("24 h", .hours(24)),
            ("7 D", .days(7)),
            ("H", .hours(1)),
            ("m", .minutes(1)),
            ("S", .seconds(1)),
            ("d", .days(1)),
            ("1H", .hours(1)),
            ("12   h", .hours(12)),
            ("  1 H  ", .hours(1)),
            ("01 H", .hours(1)),
            ("midnight", .midnight),
            ("MIDNIGHT", .midnight),
            ("Midnight", .midnight),
            ("W0", .weekly(weekday: 0)),
            ("W1", .weekly(weekday: 1)),
            ("W2", .weekly(weekday: 2)),
            ("W3", .weekly(weekday: 3)),
            ("W4", .weekly(weekday: 4)),
            ("W5", .weekly(weekday: 5)),
            ("W6", .weekly(weekday: 6)),
            ("w6", .weekly(weekday: 6)),
        ]
    )
    func accepted(text: String, rule: LogRotationRule) throws {
        let schedule = try LogRotationSchedule(parsing: text)
        #expect(schedule.rule == rule)
    }

    @Test(
        "rejected forms",
        arguments: [
            "0 H", "-1 H", "W7", "5 X", "", "1 H extra", "   ", "W", "W10", "W-1", "1 W0", "2 midnight",
            "1.5 H", "+1 H", "H 1", "1 HH", "1 hour", "99999999999999999999 H", "midnight!", "0", "12",
        ]
    )
    func rejected(text: String) {
        #expect(throws: LogRotationScheduleError.self) {
            try LogRotationSchedule(parsing: text)
        }
    }

    @Test("the error names the input, the reason and the accepted forms")
    func errorMessage() throws {
        let error = try #require(throws: LogRotationScheduleError.self) {
            try LogRotationSchedule(parsing: "5 X")
        }
        #expect(error.input == "5 X")
        #expect(error.description.contains("\"5 X\""))
        #expect(error.description.contains("\"X\" is not a unit"))
        #expect(error.description.contains("\"N H\""))
        #expect(error.description.contains("\"midnight\""))
        #expect(error.description.contains("\"W0\"...\"W6\""))
        #expect(error.localizedDescription == error.description)

        let zero = try #require(throws: LogRotationScheduleError.self) {
            try LogRotationSchedule(parsing: "0 H")
        }
        #expect(zero.reason == "the count must be a positive integer")

        let weekday = try #require(throws: LogRotationScheduleError.self) {
            try LogRotationSchedule(parsing: "W7")
        }
        #expect(weekday.reason.contains("W0 (Monday) to W6 (Sunday)"))
    }

    @Test("structured rules are validated like parsed text")
    func ruleValidation() throws {
        #expect(throws: LogRotationScheduleError.self) { try LogRotationSchedule(rule: .hours(0)) }
        #expect(throws: LogRotationScheduleError.self) { try LogRotationSchedule(rule: .seconds(-5)) }
        #expect(throws: LogRotationScheduleError.self) { try LogRotationSchedule(rule: .weekly(weekday: 7)) }
        #expect(throws: LogRotationScheduleError.self) { try LogRotationSchedule(rule: .weekly(weekday: -1)) }
        #expect(try LogRotationSchedule(rule: .days(3)) == LogRotationSchedule(parsing: "3 D"))
    }

    @Test(
        "description is canonical and parses back",
        arguments: [
            ("1 h", "1 H"), ("30m", "30 M"), ("S", "1 S"), ("2 d", "2 D"), ("MIDNIGHT", "midnight"), ("w3", "W3"),
        ]
    )
    func description(text: String, canonical: String) throws {
        let schedule = try LogRotationSchedule(parsing: text)
        #expect(schedule.description == canonical)
        #expect(try LogRotationSchedule(parsing: schedule.description) == schedule)
    }

    @Test(
        "interval and rotated-file suffix pattern per unit",
        arguments: [
            ("10 S", 10.0, "%Y-%m-%d_%H-%M-%S"),
            ("30 M", 1_800, "%Y-%m-%d_%H-%M"),
            ("1 H", 3_600, "%Y-%m-%d_%H"),
            ("2 D", 172_800, "%Y-%m-%d"),
            ("midnight", 86_400, "%Y-%m-%d"),
            ("W4", 604_800, "%Y-%m-%d"),
        ]
    )
    func intervalAndSuffix(text: String, interval: Double, pattern: String) throws {
        let schedule = try LogRotationSchedule(parsing: text)
        #expect(schedule.interval == interval)
        #expect(schedule.suffixPattern == pattern)
    }
}
