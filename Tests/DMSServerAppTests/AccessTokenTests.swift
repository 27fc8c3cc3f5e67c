import DMSCore
import Foundation
import Testing

@testable import DMSServerApp

@Suite("bearer tokens from the command line")
struct AccessTokenTests {
    private func resolve(option: String? = nil, file: String? = nil, variable: String = "DMS_TEST_TOKEN_UNSET") throws(DMSError) -> String? {
        try AccessToken.resolve(option: option, file: file, environmentVariable: variable, optionName: "--test-token")
    }

    private func temporaryFile(_ contents: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dms-token-\(UUID().uuidString)")
        try contents.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func readsTheOptionTheFileOrTheVariable() throws {
        #expect(try resolve() == nil)
        #expect(try resolve(option: "abc") == "abc")
        let file = try temporaryFile("from-file\nsecond line is ignored\n")
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try resolve(file: file) == "from-file")
        setenv("DMS_TEST_TOKEN_SET", "from-env", 1)
        defer { unsetenv("DMS_TEST_TOKEN_SET") }
        #expect(try resolve(variable: "DMS_TEST_TOKEN_SET") == "from-env")
        #expect(try resolve(option: "wins", variable: "DMS_TEST_TOKEN_SET") == "wins")
    }

    @Test func refusesUnusableTokens() throws {
        let empty = try temporaryFile("\n")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let cases: [(option: String?, file: String?, message: String)] = [
            ("a", "/nowhere", "give --test-token or --test-token-file, not both"),
            (nil, "/nowhere/token", "--test-token-file /nowhere/token: cannot read the file"),
            (nil, empty, "the token is empty"),
            ("   ", nil, "the token is empty"),
            ("with space", nil, "printable ASCII without spaces"),
            ("tökën", nil, "printable ASCII without spaces"),
        ]
        for (option, file, message) in cases {
            #expect { try resolve(option: option, file: file) } throws: { ($0 as? DMSError)?.message.contains(message) == true }
        }
    }

    @Test func loopbackIsLocalhostOneColonColonOneOr127Slash8() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"] { #expect(AccessToken.isLoopback(host), "\(host)") }
        for host in ["0.0.0.0", "10.0.0.1", "::", "127.example.com", "127.0.0.1.nip.io", "127.0.0.256", ""] { #expect(!AccessToken.isLoopback(host), "\(host)") }
    }
}
