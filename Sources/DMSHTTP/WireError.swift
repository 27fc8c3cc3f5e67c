import DMSCore
import Hummingbird

/// An error as the REST surface sends it: an HTTP status and a JSON body
/// `{"code": <status>, "type": "<Type>", "message": "…"}`.
///
/// The `type` strings are a fixed, documented list (README, "Errors"). Domain errors are mapped
/// to them here and nowhere else.
public struct WireError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var type: String
    public var message: String
    public var headers: HTTPFields

    public init(status: HTTPResponse.Status, type: String, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.type = type
        self.message = message
        self.headers = headers
    }

    /// The wire form of a domain error.
    public init(_ error: DMSError) {
        let (status, type): (HTTPResponse.Status, String) =
            switch error.code {
            case .invalidInput: (.badRequest, "InvalidInput")
            case .notFound: (.notFound, "ModelNotFound")
            case .payloadTooLarge: (.contentTooLarge, "PayloadTooLarge")
            case .unavailable: (.serviceUnavailable, "ServiceUnavailable")
            case .resourceExhausted: (.serviceUnavailable, "ServiceUnavailable")
            case .deadlineExceeded: (.gatewayTimeout, "DeadlineExceeded")
            case .requestTimeout: (.requestTimeout, "RequestTimeout")
            case .unsupported: (.notImplemented, "NotImplemented")
            case .invalidModel: (.badRequest, "InvalidModel")
            case .alreadyExists, .conflict: (.conflict, "Conflict")
            case .permissionDenied: (.forbidden, "Forbidden")
            default: (.internalServerError, "InternalServerError")
            }
        // A full queue clears quickly: clients may retry after a second.
        self.init(status: status, type: type, message: error.message, headers: error.code == .resourceExhausted ? [.retryAfter: "1"] : [:])
    }

    /// The wire form of an error raised by the HTTP stack itself (unknown route, body over the
    /// limit, malformed request).
    public init(_ error: HTTPError) {
        let message = error.body ?? error.status.reasonPhrase
        switch error.status {
        case .notFound: self.init(status: .notFound, type: "NotFound", message: "no such endpoint; see GET /api-description")
        case .contentTooLarge: self.init(status: .contentTooLarge, type: "PayloadTooLarge", message: "the request body is larger than the server's limit")
        case .badRequest: self.init(status: .badRequest, type: "InvalidInput", message: message)
        default: self.init(status: error.status, type: error.status.code >= 500 ? "InternalServerError" : "InvalidInput", message: message)
        }
    }

    /// The error's response. Under `/v2` (the Open Inference Protocol) the body is the
    /// protocol's `{"error": "…"}`, which its clients (tritonclient) read, with the same status.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let path = request.uri.path
        let body: JSONValue =
            path == "/v2" || path.hasPrefix("/v2/")
            ? .object([("error", .string(message))])
            : .object([
                ("code", .number(Double(status.code))),
                ("type", .string(type)),
                ("message", .string(message)),
            ])
        var response = Response.json(body, status: status)
        for field in headers { response.headers.append(field) }
        return response
    }
}
