import Foundation
import Hummingbird
import Testing

@testable import DMSHTTP

@Suite("access log")
struct AccessLogTests {
    typealias Middleware = AccessLogMiddleware<BasicRequestContext>

    @Test func keepsSaneRequestIDsOnly() {
        #expect(Middleware.acceptedID("trace-123") == "trace-123")
        #expect(Middleware.acceptedID(String(repeating: "a", count: 200)) != nil)
        #expect(Middleware.acceptedID(String(repeating: "a", count: 201)) == nil)
        #expect(Middleware.acceptedID("has space") == nil)
        #expect(Middleware.acceptedID("line\nbreak") == nil)
        #expect(Middleware.acceptedID("") == nil)
        #expect(Middleware.acceptedID("é") == nil)
        #expect(Middleware.acceptedID(nil) == nil)
        let made = Middleware.newID()
        #expect(made.count == 32 && made.allSatisfy(\.isHexDigit))
        #expect(made != Middleware.newID())
    }

    @Test func rendersTextAndJSONLines() throws {
        let entry = AccessLogEntry(
            method: "POST", path: "/digits/predict", model: "digits", status: 200, bytes: 312, latency: .microseconds(4210), requestID: "r-1")
        let date = Date(timeIntervalSince1970: 1_764_805_129.253)
        #expect(entry.summary == "POST /digits/predict 200 312 4.210ms")
        #expect(entry.textLine(at: date) == "2025-12-03T23:38:49.253Z POST /digits/predict 200 312 4.210ms model=digits request_id=r-1")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(entry.jsonLine(at: date).utf8)) as? [String: Any])
        #expect(json["time"] as? String == "2025-12-03T23:38:49.253Z")
        #expect(json["latency_ms"] as? Double == 4.21)
        #expect(json["model"] as? String == "digits")
        let none = AccessLogEntry(method: "GET", path: "/ping", model: nil, status: 200, bytes: 25, latency: .zero, requestID: "r-2")
        #expect(none.jsonLine(at: date).contains("\"model\":null"))
    }
}
