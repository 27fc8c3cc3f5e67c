import DMSCore
import Hummingbird
import NIOCore
import NIOHTTP1

extension Request {
    /// The whole body, decoded when it came compressed (`RequestContentEncoding`), or a
    /// `.payloadTooLarge` error naming `limit` when it is larger: at once from a `Content-Length`
    /// over the limit, else once the bytes received pass it (a chunked upload; the body stream
    /// then throws NIO's `NIOTooManyBytesError`), or once a compressed body inflates past it. A
    /// body that has not fully arrived within `timeout` is a `.requestTimeout` error (408), a
    /// malformed one (a broken chunked encoding, a corrupt compressed stream) `.invalidInput`, an
    /// encoding the server does not decode a 415 `WireError`, before the body is read;
    /// `ErrorMiddleware` then closes the connection.
    func collectBody(upTo limit: Int, within timeout: Duration) async throws -> ByteBuffer {
        let encoding = try RequestContentEncoding(header: headers[.contentEncoding])
        return try encoding.decode(try await collectEncodedBody(upTo: limit, within: timeout), limit: limit)
    }

    /// The body as sent, under the same limit and timeout.
    private func collectEncodedBody(upTo limit: Int, within timeout: Duration) async throws -> ByteBuffer {
        if let declared = headers[.contentLength].flatMap(Int.init), declared > limit {
            throw DMSError(.payloadTooLarge, "the request body is \(declared) bytes; the limit is \(limit)")
        }
        let body = self.body
        do {
            return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
                group.addTask { try await body.collect(upTo: limit) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let collected = first else {
                    throw DMSError(.requestTimeout, "the request body did not arrive within \(timeout.components.seconds) seconds (--request-body-timeout)")
                }
                return collected
            }
        } catch is NIOTooManyBytesError {
            throw DMSError(.payloadTooLarge, "the request body is larger than the limit of \(limit) bytes")
        } catch let error as HTTPParserError {
            throw DMSError(.invalidInput, "the request body is malformed (\(error))", cause: error)
        }
    }
}
