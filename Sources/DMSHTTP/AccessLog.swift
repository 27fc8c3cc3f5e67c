import DMSCore
import Foundation
import HTTPTypes
import Hummingbird

/// One request as the access log records it.
public struct AccessLogEntry: Sendable, Equatable {
    public var method: String
    public var path: String
    /// The model of a `/<model>/predict` request, else nil.
    public var model: String?
    public var status: Int
    /// Bytes of the response body.
    public var bytes: Int
    public var latency: Duration
    public var requestID: String

    /// The latency in milliseconds, to the microsecond.
    public var latencyMilliseconds: Double {
        let (seconds, attoseconds) = latency.components
        let milliseconds = Double(seconds) * 1e3 + Double(attoseconds) / 1e15
        return (milliseconds * 1000).rounded() / 1000
    }

    /// `POST /digits/predict 200 312 4.210ms`: the message of a text line; model and request id
    /// go beside it as metadata or fields.
    public var summary: String {
        "\(method) \(path) \(status) \(bytes) \(String(format: "%.3f", latencyMilliseconds))ms"
    }

    /// The entry as one JSON object: `time` (ISO 8601, UTC, milliseconds), `method`, `path`,
    /// `model` (null when none), `status`, `bytes`, `latency_ms`, `request_id`.
    public func jsonLine(at date: Date) -> String {
        let object = JSONValue.object([
            ("time", .string(Self.timestamp(date))),
            ("method", .string(method)),
            ("path", .string(path)),
            ("model", model.map(JSONValue.string) ?? .null),
            ("status", .integer(Int64(status))),
            ("bytes", .integer(Int64(bytes))),
            ("latency_ms", .number(latencyMilliseconds)),
            ("request_id", .string(requestID)),
        ])
        return String(decoding: object.serialized(), as: UTF8.self)
    }

    /// `2026-12-03T23:38:49.253Z POST /digits/predict 200 312 4.210ms model=digits request_id=…`.
    public func textLine(at date: Date) -> String {
        "\(Self.timestamp(date)) \(summary) model=\(model ?? "-") request_id=\(requestID)"
    }

    private static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

/// Gives each request its id and, when there is an access log, writes one entry per request.
/// The id is the client's `X-Request-ID` when it is a sane one (1 to 200 printable ASCII
/// characters), else a new random one. It is echoed in the response's `X-Request-ID` and set as `request_id` in the
/// request's logger, so the lines the surface logs about the request carry it.
///
/// Added first, so it sees the answer as sent: errors already turned into their JSON responses.
public struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    public static var requestIDHeader: HTTPField.Name { HTTPField.Name("X-Request-ID")! }

    private let record: (@Sendable (AccessLogEntry) -> Void)?

    public init(record: (@Sendable (AccessLogEntry) -> Void)?) {
        self.record = record
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let id = Self.acceptedID(request.headers[Self.requestIDHeader]) ?? Self.newID()
        var context = context
        context.logger[metadataKey: "request_id"] = .string(id)
        do {
            var response = try await next(request, context)
            response.headers[Self.requestIDHeader] = id
            if let record {
                let bytes = response.body.contentLength ?? response.headers[.contentLength].flatMap(Int.init) ?? 0
                record(Self.entry(request, status: response.status.code, bytes: bytes, since: started, id: id))
            }
            return response
        } catch {
            if let record {
                record(Self.entry(request, status: (error as? any HTTPResponseError)?.status.code ?? 500, bytes: 0, since: started, id: id))
            }
            throw error
        }
    }

    /// The entry of one request; its model is the first segment of a `/<model>/predict` path.
    private static func entry(_ request: Request, status: Int, bytes: Int, since started: ContinuousClock.Instant, id: String) -> AccessLogEntry {
        let path = request.uri.path
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        let model = segments.count == 3 && segments[2] == "predict" && !segments[1].isEmpty ? String(segments[1]) : nil
        return AccessLogEntry(
            method: request.method.rawValue, path: path, model: model, status: status, bytes: bytes, latency: .now - started, requestID: id)
    }

    /// The client's id when it is 1 to 200 printable ASCII characters without spaces.
    static func acceptedID(_ value: String?) -> String? {
        guard let value, (1...200).contains(value.utf8.count), value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        return value
    }

    /// 128 random bits as 32 hexadecimal digits.
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return [generator.next(), generator.next()].map { (value: UInt64) in
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }.joined()
    }
}
