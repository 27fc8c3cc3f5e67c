import DMSCore
import Hummingbird
import Testing

@testable import DMSHTTP

/// The one place domain errors become HTTP statuses and error types.
@Suite("wire errors")
struct WireErrorTests {
    @Test(arguments: [
        (DMSError.Code.invalidInput, 400, "InvalidInput"),
        (.notFound, 404, "ModelNotFound"),
        (.payloadTooLarge, 413, "PayloadTooLarge"),
        (.unavailable, 503, "ServiceUnavailable"),
        (.resourceExhausted, 503, "ServiceUnavailable"),
        (.deadlineExceeded, 504, "DeadlineExceeded"),
        (.requestTimeout, 408, "RequestTimeout"),
        (.unsupported, 501, "NotImplemented"),
        (.invalidModel, 400, "InvalidModel"),
        (.alreadyExists, 409, "Conflict"),
        (.conflict, 409, "Conflict"),
        (.permissionDenied, 403, "Forbidden"),
        (.engineUnavailable, 500, "InternalServerError"),
        (.engineFailure, 500, "InternalServerError"),
        (.internalError, 500, "InternalServerError"),
    ])
    func eachCodeHasOneStatusAndType(code: DMSError.Code, status: Int, type: String) {
        let wire = WireError(DMSError(code, "what happened"))
        #expect(wire.status.code == status)
        #expect(wire.type == type)
        #expect(wire.message == "what happened")
        #expect(wire.headers[.retryAfter] == (code == .resourceExhausted ? "1" : nil))
    }

    @Test func errorsOfTheHTTPStackGetTheSameBodyShape() {
        #expect(WireError(HTTPError(.notFound)).type == "NotFound")
        #expect(WireError(HTTPError(.contentTooLarge)).type == "PayloadTooLarge")
        #expect(WireError(HTTPError(.badRequest, message: "bad head")).message == "bad head")
        #expect(WireError(HTTPError(.badRequest)).type == "InvalidInput")
        #expect(WireError(HTTPError(.serviceUnavailable)).type == "InternalServerError")
        #expect(WireError(HTTPError(.serviceUnavailable)).status == .serviceUnavailable)
        #expect(WireError(HTTPError(.unprocessableContent)).type == "InvalidInput")
    }
}
