import DMSLogging
import Dispatch
import Foundation
import Testing

@Suite("Rotating log file")
struct RotatingLogFileTests {
    @Test("creates missing parent folders and appends to an existing file")
    func createsFoldersAndAppends() throws {
        let folder = try TemporaryDirectory()
        let path = folder.file("logs/nested/dms_app.log")
        let errors = ErrorRecorder()
        do {
            let log = try RotatingLogFile(path: path, timeZone: UTC.zone, onError: errors.closure)
            log.write("one")
            log.write("two\n")
        }
        do {
            let log = try RotatingLogFile(path: path, timeZone: UTC.zone, onError: errors.closure)
            #expect(log.nextRollover == nil)
            log.write("three")
        }
        #expect(try folder.contents("logs/nested/dms_app.log") == "one\ntwo\nthree\n")
        #expect(errors.errors.isEmpty)
    }

    @Test("rotates hourly when the clock passes the rollover, naming the file for the period start")
    func hourlyRotation() throws {
        let folder = try TemporaryDirectory()
        let clock = TestClock(UTC.date("2026-11-25 10:36:23"))
        let errors = ErrorRecorder()
        let log = try RotatingLogFile(
            path: folder.file("dms_app.log"),
            schedule: LogRotationSchedule(parsing: "1 H"),
            timeZone: UTC.zone,
            clock: clock.closure,
            onError: errors.closure
        )
        #expect(log.nextRollover == UTC.date("2026-11-25 11:36:23"))
        log.write("first")
        clock.set(UTC.date("2026-11-25 11:36:22"))
        log.write("still first period")
        #expect(try folder.names() == ["dms_app.log"])

        clock.set(UTC.date("2026-11-25 11:40:00"))
        log.write("second")
        #expect(try folder.names() == ["dms_app.log", "dms_app.log.2026-11-25_10"])
        #expect(try folder.contents("dms_app.log.2026-11-25_10") == "first\nstill first period\n")
        #expect(try folder.contents("dms_app.log") == "second\n")
        #expect(log.nextRollover == UTC.date("2026-11-25 12:40:00"))

        clock.set(UTC.date("2026-11-25 12:40:00"))
        log.write("third")
        #expect(try folder.names() == ["dms_app.log", "dms_app.log.2026-11-25_10", "dms_app.log.2026-11-25_11"])
        #expect(try folder.contents("dms_app.log.2026-11-25_11") == "second\n")
        #expect(try folder.contents("dms_app.log") == "third\n")
        #expect(errors.errors.isEmpty)
    }

    @Test(
        "rotated names use the unit's suffix and the start of the period that ended",
        arguments: [
            ("10 S", "2026-11-25 10:36:33", "dms_app.log.2026-11-25_10-36-23"),
            ("5 M", "2026-11-25 10:41:23", "dms_app.log.2026-11-25_10-36"),
            ("1 H", "2026-11-25 11:36:23", "dms_app.log.2026-11-25_10"),
            ("1 D", "2026-11-26 10:36:23", "dms_app.log.2026-11-25"),
            ("midnight", "2026-11-26 00:00:05", "dms_app.log.2026-11-25"),
            ("W0", "2026-12-01 00:00:00", "dms_app.log.2026-11-24"),
            ("W2", "2026-11-26 00:00:00", "dms_app.log.2026-11-19"),
        ]
    )
    func suffixPerUnit(rotation: String, rotateAt: String, rotatedName: String) throws {
        let folder = try TemporaryDirectory()
        let clock = TestClock(UTC.date("2026-11-25 10:36:23"))
        let errors = ErrorRecorder()
        let log = try RotatingLogFile(
            path: folder.file("dms_app.log"),
            schedule: LogRotationSchedule(parsing: rotation),
            timeZone: UTC.zone,
            clock: clock.closure,
            onError: errors.closure
        )
        log.write("before")
        clock.set(UTC.date(rotateAt))
        log.write("after")
        #expect(try folder.names() == ["dms_app.log", rotatedName])
        #expect(try folder.contents(rotatedName) == "before\n")
        #expect(try folder.contents("dms_app.log") == "after\n")
        #expect(errors.errors.isEmpty)
    }

    @Test("after a long idle gap one rotation happens and the next period starts at that write")
    func idleGap() throws {
        let folder = try TemporaryDirectory()
        let clock = TestClock(UTC.date("2026-11-25 10:00:00"))
        let log = try RotatingLogFile(
            path: folder.file("dms_app.log"),
            schedule: LogRotationSchedule(parsing: "1 H"),
            timeZone: UTC.zone,
            clock: clock.closure,
            onError: ErrorRecorder().closure
        )
        log.write("morning")
        clock.set(UTC.date("2026-11-25 15:20:00"))
        log.write("afternoon")
        #expect(try folder.names() == ["dms_app.log", "dms_app.log.2026-11-25_10"])
        #expect(log.nextRollover == UTC.date("2026-11-25 16:20:00"))
    }

    @Test("an existing file with the rotated name is replaced")
    func overwritesExistingTarget() throws {
        let folder = try TemporaryDirectory()
        try "stale\n".write(toFile: folder.file("dms_app.log.2026-11-25_10"), atomically: true, encoding: .utf8)
        let clock = TestClock(UTC.date("2026-11-25 10:36:23"))
        let errors = ErrorRecorder()
        let log = try RotatingLogFile(
            path: folder.file("dms_app.log"),
            schedule: LogRotationSchedule(parsing: "1 H"),
            timeZone: UTC.zone,
            clock: clock.closure,
            onError: errors.closure
        )
        log.write("fresh")
        clock.set(UTC.date("2026-11-25 12:00:00"))
        log.write("next")
        #expect(try folder.contents("dms_app.log.2026-11-25_10") == "fresh\n")
        #expect(errors.errors.isEmpty)
    }

    @Test("backupCount keeps only the newest rotated files and leaves other files alone")
    func backupCountPrunes() throws {
        let folder = try TemporaryDirectory()
        let unrelated = ["dms_app.log.notes", "other.log.2026-11-25_01", "dms_app.log.2026-11-25", "dms_app.log.2026-11-25_1"]
        for name in unrelated {
            try "keep\n".write(toFile: folder.file(name), atomically: true, encoding: .utf8)
        }
        let clock = TestClock(UTC.date("2026-11-25 10:00:00"))
        let errors = ErrorRecorder()
        let log = try RotatingLogFile(
            path: folder.file("dms_app.log"),
            schedule: LogRotationSchedule(parsing: "1 H"),
            backupCount: 2,
            timeZone: UTC.zone,
            clock: clock.closure,
            onError: errors.closure
        )
        for hour in 10...15 {
            clock.set(UTC.date("2026-11-25 \(hour):00:00"))
            log.write("hour \(hour)")
        }
        let expected = (unrelated + ["dms_app.log", "dms_app.log.2026-11-25_13", "dms_app.log.2026-11-25_14"]).sorted()
        #expect(try folder.names() == expected)
        #expect(try folder.contents("dms_app.log.2026-11-25_13") == "hour 13\n")
        #expect(try folder.contents("dms_app.log.2026-11-25_14") == "hour 14\n")
        #expect(try folder.contents("dms_app.log") == "hour 15\n")
        #expect(errors.errors.isEmpty)
    }

    @Test("backupCount 0 keeps every rotated file")
    func backupCountZeroKeepsAll() throws {
        let folder = try TemporaryDirectory()
        let clock = TestClock(UTC.date("2026-11-25 10:00:00"))
        let log = try RotatingLogFile(
            path: folder.file("dms_app.log"),
            schedule: LogRotationSchedule(parsing: "1 H"),
            backupCount: 0,
            timeZone: UTC.zone,
            clock: clock.closure,
            onError: ErrorRecorder().closure
        )
        for hour in 10...15 {
            clock.set(UTC.date("2026-11-25 \(hour):00:00"))
            log.write("hour \(hour)")
        }
        #expect(try folder.names().count == 6)
    }

    @Test("an existing file's first period starts at its modification time, as in Python")
    func existingFileUsesModificationTime() throws {
        let folder = try TemporaryDirectory()
        let path = folder.file("dms_app.log")
        try "from before the restart\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes(
            [.modificationDate: UTC.date("2026-11-25 08:15:00")],
            ofItemAtPath: path
        )
        let clock = TestClock(UTC.date("2026-11-25 10:36:23"))
        let log = try RotatingLogFile(
            path: path,
            schedule: LogRotationSchedule(parsing: "1 H"),
            timeZone: UTC.zone,
            clock: clock.closure,
            onError: ErrorRecorder().closure
        )
        #expect(log.nextRollover == UTC.date("2026-11-25 09:15:00"))
        log.write("after the restart")
        #expect(try folder.names() == ["dms_app.log", "dms_app.log.2026-11-25_08"])
        #expect(try folder.contents("dms_app.log.2026-11-25_08") == "from before the restart\n")
        #expect(try folder.contents("dms_app.log") == "after the restart\n")
    }

    @Test("a log file deleted from under the server is recreated at the next rotation")
    func deletedFileIsRecreated() throws {
        let folder = try TemporaryDirectory()
        let clock = TestClock(UTC.date("2026-11-25 10:00:00"))
        let errors = ErrorRecorder()
        let log = try RotatingLogFile(
            path: folder.file("dms_app.log"),
            schedule: LogRotationSchedule(parsing: "1 H"),
            timeZone: UTC.zone,
            clock: clock.closure,
            onError: errors.closure
        )
        log.write("lost")
        try FileManager.default.removeItem(atPath: folder.file("dms_app.log"))
        clock.set(UTC.date("2026-11-25 11:00:00"))
        log.write("kept")
        #expect(try folder.names() == ["dms_app.log"])
        #expect(try folder.contents("dms_app.log") == "kept\n")
        #expect(errors.errors.isEmpty)
    }

    @Test("something that is not a regular file is written to but never renamed")
    func nonRegularFileIsNotRotated() throws {
        let folder = try TemporaryDirectory()
        let link = folder.file("console.log")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/dev/null")
        let clock = TestClock(UTC.date("2026-11-25 10:00:00"))
        let errors = ErrorRecorder()
        let log = try RotatingLogFile(
            path: link,
            schedule: LogRotationSchedule(parsing: "1 S"),
            timeZone: UTC.zone,
            clock: clock.closure,
            onError: errors.closure
        )
        log.write("one")
        clock.set(UTC.date("2026-11-25 10:00:05"))
        log.write("two")
        #expect(try folder.names() == ["console.log"])
        #expect(log.nextRollover == UTC.date("2026-11-25 10:00:06"))
        #expect(errors.errors.isEmpty)
    }

    @Test("a path that cannot be opened is reported when the file is created")
    func openFailure() throws {
        let folder = try TemporaryDirectory()
        let error = try #require(throws: RotatingLogFileError.self) {
            try RotatingLogFile(path: folder.path, timeZone: UTC.zone)
        }
        guard case .cannotOpen(let path, let reason) = error else {
            Issue.record("unexpected error \(error)")
            return
        }
        #expect(path == folder.path)
        #expect(!reason.isEmpty)
        #expect(error.description.hasPrefix("cannot open log file \(folder.path): "))
    }

    @Test("concurrent writers produce whole lines, none lost")
    func concurrentWrites() throws {
        let folder = try TemporaryDirectory()
        let errors = ErrorRecorder()
        let log = try RotatingLogFile(path: folder.file("dms_app.log"), timeZone: UTC.zone, onError: errors.closure)
        let threads = 8
        let linesPerThread = 400
        let padding = String(repeating: "x", count: 1_000)
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0..<linesPerThread {
                log.write("thread=\(thread) line=\(index) \(padding)")
            }
        }
        let lines = try folder.contents("dms_app.log").split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.last == "")
        let written = lines.dropLast()
        #expect(written.count == threads * linesPerThread)
        #expect(written.allSatisfy { $0.hasPrefix("thread=") && $0.hasSuffix(" " + padding) })
        let identities = Set(written.map { $0.split(separator: " ").prefix(2).joined(separator: " ") })
        #expect(identities.count == threads * linesPerThread)
        #expect(errors.errors.isEmpty)
    }

    @Test("concurrent writers across many rotations lose and split no line")
    func concurrentWritesWithRotation() throws {
        let folder = try TemporaryDirectory()
        let clock = TestClock(UTC.date("2026-11-25 10:00:00"), tick: 1)
        let errors = ErrorRecorder()
        let log = try RotatingLogFile(
            path: folder.file("dms_app.log"),
            schedule: LogRotationSchedule(parsing: "1 M"),
            timeZone: UTC.zone,
            clock: clock.closure,
            onError: errors.closure
        )
        let threads = 4
        let linesPerThread = 300
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0..<linesPerThread {
                log.write("thread=\(thread) line=\(index) end")
            }
        }
        let names = try folder.names()
        #expect(names.count > 10)
        var lines: [Substring] = []
        for name in names {
            let text = try folder.contents(name)
            #expect(text.hasSuffix("\n"))
            lines += text.split(separator: "\n")
        }
        #expect(lines.count == threads * linesPerThread)
        #expect(Set(lines).count == threads * linesPerThread)
        #expect(lines.allSatisfy { $0.hasPrefix("thread=") && $0.hasSuffix(" end") })
        #expect(errors.errors.isEmpty)
    }
}
