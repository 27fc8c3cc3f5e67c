import DMSLogging
import Foundation
import Logging
import Testing

@Suite("Log handler")
struct DMSLogHandlerTests {
    private func makeLogger(
        folder: TemporaryDirectory,
        label: String = "dms.server",
        level: Logger.Level = .info,
        at time: String = "2026-11-25 10:36:23.123",
        timeZone: TimeZone = UTC.zone,
        metadataProvider: Logger.MetadataProvider? = nil
    ) throws -> Logger {
        let file = try RotatingLogFile(path: folder.file("dms_app.log"), timeZone: UTC.zone, onError: ErrorRecorder().closure)
        let clock = TestClock(UTC.date(time))
        return Logger(label: label) { label in
            DMSLogHandler(
                label: label,
                logFile: file,
                toStandardError: false,
                level: level,
                timeZone: timeZone,
                metadataProvider: metadataProvider,
                clock: clock.closure
            )
        }
    }

    private func lines(in folder: TemporaryDirectory) throws -> [String] {
        try folder.contents("dms_app.log").split(separator: "\n").map(String.init)
    }

    @Test("formats timestamp, level, label, message and sorted metadata")
    func lineFormat() throws {
        let folder = try TemporaryDirectory()
        let logger = try makeLogger(folder: folder)
        logger.info("model loaded", metadata: ["model": "llama", "batch": "8"])
        logger.info("plain")
        #expect(
            try lines(in: folder) == [
                "2026-11-25 10:36:23.123 INFO [dms.server] model loaded batch=8 model=llama",
                "2026-11-25 10:36:23.123 INFO [dms.server] plain",
            ]
        )
    }

    @Test("handler, provider and call metadata merge with the call winning; errors add two keys")
    func metadataMerging() throws {
        let folder = try TemporaryDirectory()
        let provider = Logger.MetadataProvider { ["request": "r-1", "shared": "provider"] }
        var logger = try makeLogger(folder: folder, metadataProvider: provider)
        logger[metadataKey: "shared"] = "handler"
        logger[metadataKey: "worker"] = "2"
        logger.warning("slow", metadata: ["shared": "call"])
        logger.error("load failed", error: ModelLoadError())
        let written = try lines(in: folder)
        #expect(written.count == 2)
        #expect(written.first == "2026-11-25 10:36:23.123 WARNING [dms.server] slow request=r-1 shared=call worker=2")
        #expect(written.last?.hasPrefix("2026-11-25 10:36:23.123 ERROR [dms.server] load failed error.message=weights missing error.type=") == true)
        #expect(written.last?.hasSuffix("ModelLoadError request=r-1 shared=provider worker=2") == true)
    }

    @Test("messages below the handler's level are dropped; each level has its name")
    func levelFiltering() throws {
        let folder = try TemporaryDirectory()
        let logger = try makeLogger(folder: folder, level: .info)
        logger.trace("t")
        logger.debug("d")
        logger.info("i")
        logger.notice("n")
        logger.warning("w")
        logger.error("e")
        logger.critical("c")
        #expect(
            try lines(in: folder).map { $0.split(separator: " ")[2] } == [
                "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL",
            ]
        )
    }

    @Test("NOTSET logs everything and ERROR keeps only errors and worse")
    func levelsFromNames() throws {
        let everything = try TemporaryDirectory()
        let verbose = try makeLogger(folder: everything, level: DMSLogLevel(parsing: "NOTSET").loggerLevel)
        verbose.trace("t")
        verbose.debug("d")
        #expect(try lines(in: everything).count == 2)

        let errorsOnly = try TemporaryDirectory()
        let quiet = try makeLogger(folder: errorsOnly, level: DMSLogLevel(parsing: "error").loggerLevel)
        quiet.warning("w")
        quiet.error("e")
        #expect(try lines(in: errorsOnly).map { $0.split(separator: " ")[2] } == ["ERROR"])
    }

    @Test("level and metadata are values: changing one logger leaves its copy alone")
    func valueSemantics() throws {
        let folder = try TemporaryDirectory()
        var first = try makeLogger(folder: folder)
        first[metadataKey: "only-on"] = "first"
        var second = first
        second.logLevel = .error
        second[metadataKey: "only-on"] = "second"
        #expect(first.logLevel == .info)
        #expect(second.logLevel == .error)
        #expect(first[metadataKey: "only-on"] == "first")
        #expect(second[metadataKey: "only-on"] == "second")
    }

    @Test("timestamps use the injected time zone and round to the millisecond")
    func timestamps() throws {
        let plusFive = try TemporaryDirectory()
        let shifted = try makeLogger(folder: plusFive, at: "2026-11-25 22:00:00.007", timeZone: #require(TimeZone(secondsFromGMT: 5 * 3_600)))
        shifted.info("late")
        #expect(try lines(in: plusFive) == ["2026-11-26 03:00:00.007 INFO [dms.server] late"])

        let rounding = try TemporaryDirectory()
        let logger = try makeLogger(folder: rounding, at: "2026-12-31 23:59:59.999")
        logger.info("last")
        #expect(try lines(in: rounding) == ["2026-12-31 23:59:59.999 INFO [dms.server] last"])
    }

    @Test("the bootstrap factory builds handlers with the label and level given")
    func factory() throws {
        let folder = try TemporaryDirectory()
        let file = try RotatingLogFile(path: folder.file("dms_app.log"), timeZone: UTC.zone, onError: ErrorRecorder().closure)
        let make = DMSLogHandler.factory(logFile: file, level: .warning, toStandardError: false, timeZone: UTC.zone)
        let logger = Logger(label: "dms.worker", factory: make)
        #expect(logger.logLevel == .warning)
        logger.info("dropped")
        logger.warning("kept")
        let written = try lines(in: folder)
        #expect(written.count == 1)
        #expect(written.first?.hasSuffix(" WARNING [dms.worker] kept") == true)
    }
}
