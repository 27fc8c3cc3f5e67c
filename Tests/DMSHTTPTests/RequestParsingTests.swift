import DMSCore
import Foundation
import NIOCore
import Testing

@testable import DMSHTTP

/// How HTTP bodies and headers become a `PredictionRequest`.
@Suite("request parsing")
struct RequestParsingTests {
    private func parse(_ body: String, contentType: String?) throws(DMSError) -> PredictionRequest {
        try PredictionRequest(httpBody: ByteBuffer(string: body), contentType: contentType)
    }

    private func expectRefusal(_ body: String, contentType: String?, mentioning fragment: String) {
        do {
            _ = try parse(body, contentType: contentType)
            Issue.record("expected a refusal mentioning \(fragment)")
        } catch {
            #expect(error.code == .invalidInput)
            #expect(error.message.contains(fragment), "\(error.message)")
        }
    }

    private static let multipart = [
        "--XyZ",
        "Content-Disposition: form-data; name=\"input0\"; filename=\"cat.jpg\"",
        "Content-Type: image/jpeg",
        "",
        "JPEGBYTES",
        "--XyZ",
        "Content-Disposition: form-data; name=\"scale\"",
        "",
        "[[2]]",
        "--XyZ--",
        "",
    ].joined(separator: "\r\n")

    @Test func multipartFieldsBecomePartsAsSent() throws {
        let request = try parse(Self.multipart, contentType: "multipart/form-data; boundary=XyZ")
        #expect(request.parts.map(\.name) == ["input0", "scale"])
        #expect(request.parts[0].bytes == Array("JPEGBYTES".utf8))
        #expect(request.parts[0].contentType == "image/jpeg")
        #expect(request.parts[0].isFile)
        #expect(request.parts[1].bytes == Array("[[2]]".utf8))
        #expect(!request.parts[1].isFile)
    }

    @Test func brokenMultipartBodiesAreInvalidInput() {
        expectRefusal(Self.multipart, contentType: "multipart/form-data", mentioning: "without a boundary")
        expectRefusal("--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--\r\n", contentType: "multipart/form-data; boundary=XyZ", mentioning: "has no name")
        expectRefusal("--XyZ--\r\n", contentType: "multipart/form-data; boundary=XyZ", mentioning: "malformed")
        expectRefusal("no boundary anywhere", contentType: "multipart/form-data; boundary=XyZ", mentioning: "has no fields")
        // An empty boundary made MultipartKit trap (a precondition).
        expectRefusal("--\r\n\r\n", contentType: "multipart/form-data; boundary=", mentioning: "without a boundary")
        expectRefusal("--\r\n\r\n", contentType: "multipart/form-data; boundary=\"\"", mentioning: "without a boundary")
        expectRefusal("x", contentType: "multipart/form-data; boundary=\(String(repeating: "a", count: 71))", mentioning: "at most 70")
    }

    /// Bytes beyond ASCII where a part's header name goes made MultipartKit trap (found by
    /// schemathesis: the first body is its input); in a header value they are fine.
    @Test func nonASCIIHeaderNamesAreInvalidInputNotACrash() throws {
        let contentType = "multipart/form-data; boundary=B"
        let bodies: [[UInt8]] = [
            Array("--B\r\n".utf8) + [0xF1, 0x96, 0xA5, 0x81] + Array("{Vk--B--\r\n".utf8),
            Array("--B\r\nContent-Disposition: form-data; name=\"input0\"\r\n\r\nx\r\n--B\r\nX-".utf8) + [0xC3, 0xA9] + Array(": 1\r\n\r\ny\r\n--B--\r\n".utf8),
        ]
        for body in bodies {
            #expect(throws: DMSError.self) { try PredictionRequest(httpBody: ByteBuffer(bytes: body), contentType: contentType) }
        }
        let accented = Array("--B\r\nContent-Disposition: form-data; name=\"input0\"; filename=\"caf".utf8) + [0xC3, 0xA9]
            + Array(".jpg\"\r\n\r\nx\r\n--B--\r\n".utf8)
        let request = try PredictionRequest(httpBody: ByteBuffer(bytes: accented), contentType: contentType)
        #expect(request.parts.map(\.name) == ["input0"])
    }

    /// Delimiters back to back (each starting a header block that runs to the end of the body)
    /// are read in one pass, not once per delimiter: the check of these 4 MiB took hours when it
    /// scanned from every delimiter to the end; now it is a moment, and the parser refuses them.
    @Test func delimiterFloodsAreCheckedInOnePass() {
        let body = String(repeating: "--B\r\n", count: 700_000)
        #expect(throws: DMSError.self) { try PredictionRequest(httpBody: ByteBuffer(string: body), contentType: "multipart/form-data; boundary=B") }
    }

    @Test func jsonBodiesAreObjectsOfInputsOrOneArray() throws {
        let object = try parse(#"{"x": [[1, 2]], "input1": [[3]]}"#, contentType: "application/json")
        #expect(object.parts.map(\.name) == ["input1", "x"])
        #expect(object.parts.allSatisfy { $0.contentType == "application/json" && !$0.isFile })
        let array = try parse("[[1, 2, 3]]", contentType: "application/json; charset=utf-8")
        #expect(array.parts.map(\.name) == ["input0"])
        #expect(array.parts[0].bytes == Array("[[1, 2, 3]]".utf8))
        expectRefusal("{\"x\": [1,", contentType: "application/json", mentioning: "malformed")
        expectRefusal("{}", contentType: "application/json", mentioning: "must be an object of inputs")
        expectRefusal("42", contentType: "application/json", mentioning: "must be an object of inputs")
    }

    @Test func anyOtherBodyIsInput0() throws {
        let request = try parse("RAWIMAGE", contentType: "image/png")
        #expect(request.parts.map(\.name) == ["input0"])
        #expect(request.parts[0].contentType == "image/png")
        #expect(try parse("RAW", contentType: nil).parts.count == 1)
        expectRefusal("", contentType: "image/jpeg", mentioning: "has no body")
    }

    @Test func acceptHeadersListMediaTypesWithoutParameters() {
        #expect(PredictionRequest.mediaTypes(acceptHeader: nil) == [])
        #expect(PredictionRequest.mediaTypes(acceptHeader: "") == [])
        #expect(PredictionRequest.mediaTypes(acceptHeader: ";") == [])
        #expect(PredictionRequest.mediaTypes(acceptHeader: " , ;q=1,") == [])
        #expect(PredictionRequest.mediaTypes(acceptHeader: "image/jpeg;q=0.9, application/json") == ["image/jpeg", "application/json"])
        let request = PredictionRequest(parts: [], acceptedTypes: PredictionRequest.mediaTypes(acceptHeader: "IMAGE/JPEG, */*"))
        #expect(request.accepts("image/jpeg"))
        #expect(!request.accepts("image/png"))
    }

    @Test func timeoutHeadersGiveDeadlines() throws {
        let now = ContinuousClock.now
        #expect(try ModelServerRoutes.deadline(nil, now: now) == nil)
        #expect(try ModelServerRoutes.deadline("250", now: now) == now + .milliseconds(250))
        #expect(try ModelServerRoutes.deadline(" 0 ", now: now) == now)
        #expect(try ModelServerRoutes.deadline("9223372036854775807", now: now) == now + .milliseconds(Int.max))
        for bad in ["-1", "1.5", "soon", "", "99999999999999999999"] {
            let error = #expect(throws: DMSError.self) { try ModelServerRoutes.deadline(bad, now: now) }
            #expect(error?.code == .invalidInput)
            #expect(error?.message.contains("X-Request-Timeout-Ms") == true)
        }
    }
}
