import DMSCore
import Hummingbird
import NIOCore

extension Request {
    /// The whole body, or a `.payloadTooLarge` error naming `limit` when it is larger: at once
    /// from a `Content-Length` over the limit, else once the bytes received pass it (a chunked
    /// upload; the body stream then throws NIO's `NIOTooManyBytesError`).
    func collectBody(upTo limit: Int) async throws -> ByteBuffer {
        if let declared = headers[.contentLength].flatMap(Int.init), declared > limit {
            throw DMSError(.payloadTooLarge, "the request body is \(declared) bytes; the limit is \(limit)")
        }
        do {
            return try await body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw DMSError(.payloadTooLarge, "the request body is larger than the limit of \(limit) bytes")
        }
    }
}
