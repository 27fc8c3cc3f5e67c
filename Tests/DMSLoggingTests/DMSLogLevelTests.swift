import DMSLogging
import Logging
import Testing

@Suite("Parsing --log-level")
struct DMSLogLevelTests {
    @Test(
        "names map to swift-log levels, case-insensitively",
        arguments: [
            ("NOTSET", DMSLogLevel.notset, Logger.Level.trace),
            ("notset", .notset, .trace),
            ("DEBUG", .debug, .debug),
            ("debug", .debug, .debug),
            ("INFO", .info, .info),
            ("Info", .info, .info),
            (" INFO ", .info, .info),
            ("WARNING", .warning, .warning),
            ("warning", .warning, .warning),
            ("WARN", .warning, .warning),
            ("warn", .warning, .warning),
            ("ERROR", .error, .error),
            ("error", .error, .error),
            ("CRITICAL", .critical, .critical),
            ("Critical", .critical, .critical),
        ]
    )
    func parses(name: String, level: DMSLogLevel, loggerLevel: Logger.Level) throws {
        let parsed = try DMSLogLevel(parsing: name)
        #expect(parsed == level)
        #expect(parsed.loggerLevel == loggerLevel)
    }

    @Test("unknown names are rejected", arguments: ["", "VERBOSE", "WARNINGS", "trace", "FATAL", "notice", "5"])
    func rejects(name: String) {
        #expect(throws: DMSLogLevelError.self) { try DMSLogLevel(parsing: name) }
    }

    @Test("the error message names the input and lists every valid level")
    func errorMessage() throws {
        let error = try #require(throws: DMSLogLevelError.self) { try DMSLogLevel(parsing: "VERBOSE") }
        #expect(error.name == "VERBOSE")
        #expect(error.description.contains("\"VERBOSE\""))
        for name in ["NOTSET", "DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL"] {
            #expect(error.description.contains(name))
        }
        #expect(error.localizedDescription == error.description)
    }

    @Test("description is the canonical Python name")
    func description() {
        #expect(DMSLogLevel.allCases.map(\.description) == ["NOTSET", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
    }
}
