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
