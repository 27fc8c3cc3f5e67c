import CZlibInflate
import DMSCore
import NIOCore

/// How a request body is compressed (its `Content-Encoding`), and its decoding.
///
/// Clients compress large tensors: tritonclient's `request_compression_algorithm="gzip"` or
/// `"deflate"` sends the body that way, as `curl --data-binary @body.json.gz -H 'Content-Encoding:
/// gzip'` does. The server accepts `gzip` (also as `x-gzip`) and `deflate` (zlib's format, as
/// HTTP defines it; a raw deflate stream, which some clients send under that name, is accepted
/// too) and answers anything else with 415. The decoded body must fit the same limit as an
/// uncompressed one (`--max-request-size` for inference), checked while inflating, so a small body
/// that expands to gigabytes (a decompression bomb) costs at most about twice that limit of memory
/// (the output buffer grows by doubling) before its 413. The limit must be at most 1 GiB, as
/// `--max-request-size` is: the buffer's capacity, rounded up to a power of two, is a 32-bit number.
///
/// The inflate loop is written here over zlib rather than taken from a library: NIO's
/// `NIOHTTPRequestDecompressor` fails the connection on a corrupt body instead of letting the
/// route answer 400, and compress-nio's `decompress` accepts a stream cut short (it returns the
/// bytes inflated so far), which would hand a truncated tensor to the parsers.
public enum RequestContentEncoding: Sendable, Equatable {
    case identity
    case gzip
    case deflate

    /// The encoding a `Content-Encoding` header names: none (or `identity`) is the body as sent;
    /// one of `gzip`, `x-gzip`, `deflate`, case-insensitive, alone or beside `identity`.
    ///
    /// - Throws: `WireError` 415 for any other coding or more than one.
    public init(header: String?) throws(WireError) {
        let codings = (header ?? "").split(separator: ",").map { String($0.filter { $0 != " " && $0 != "\t" }).lowercased() }
            .filter { !$0.isEmpty && $0 != "identity" }
        switch codings {
        case []: self = .identity
        case ["gzip"], ["x-gzip"]: self = .gzip
        case ["deflate"]: self = .deflate
        default:
            throw WireError(
                status: .unsupportedMediaType, type: "UnsupportedMediaType",
                message: "Content-Encoding '\(header ?? "")' is not supported; send the body as is, or with gzip or deflate")
        }
    }

    /// `body` decoded: itself for `identity`, else inflated.
    ///
    /// - Throws: `.payloadTooLarge` when the decoded body would pass `limit` bytes;
    ///   `.invalidInput` for a body that is not a whole, valid stream of the encoding (corrupt,
    ///   cut short, or followed by other bytes).
    public func decode(_ body: ByteBuffer, limit: Int) throws(DMSError) -> ByteBuffer {
        switch self {
        case .identity: body
        case .gzip: try Self.inflate(body, format: .gzip, limit: limit)
        case .deflate: try Self.inflate(body, format: Self.looksLikeZlib(body) ? .zlib : .rawDeflate, limit: limit)
        }
    }

    private enum StreamFormat {
        case gzip, zlib, rawDeflate

        /// zlib's `windowBits` for this format with the largest window (2^15 bytes).
        var windowBits: Int32 {
            switch self {
            case .gzip: 16 + 15
            case .zlib: 15
            case .rawDeflate: -15
            }
        }

        var name: String {
            switch self {
            case .gzip: "gzip"
            case .zlib, .rawDeflate: "deflate"
            }
        }
    }

    /// Whether `body` starts with a zlib header (RFC 1950): compression method 8 and a check
    /// value that makes the first two bytes a multiple of 31. A raw deflate stream rarely does.
    private static func looksLikeZlib(_ body: ByteBuffer) -> Bool {
        guard let first = body.getInteger(at: body.readerIndex, as: UInt8.self),
            let second = body.getInteger(at: body.readerIndex + 1, as: UInt8.self)
        else { return false }
        return first & 0x0F == 8 && (UInt16(first) << 8 | UInt16(second)) % 31 == 0
    }

    /// Inflates the whole of `body`, growing the output as needed up to `limit` bytes. A gzip
    /// body may hold several members one after another (as `cat a.gz b.gz` makes); they decode
    /// to their contents joined, as gunzip does.
    private static func inflate(_ body: ByteBuffer, format: StreamFormat, limit: Int) throws(DMSError) -> ByteBuffer {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        // zlib keeps a pointer back to the stream in its state: the stream must not move while in use.
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        guard dms_inflate_init(stream, format.windowBits) == Z_OK else {
            throw DMSError(.internalError, "zlib could not start inflating (out of memory?)")
        }
        defer { inflateEnd(stream) }

        // One byte of room beyond the limit tells a body of exactly `limit` bytes from a larger one.
        let capacityLimit = limit + 1
        var output = ByteBufferAllocator().buffer(capacity: min(capacityLimit, max(16 << 10, body.readableBytes * 4)))
        let outcome: Result<Void, DMSError> = body.withUnsafeReadableBytes { input in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.pointee.avail_in = uInt(input.count)
            while true {
                guard output.writerIndex < capacityLimit else { break }
                if output.writableBytes == 0 {
                    output.reserveCapacity(min(capacityLimit, output.capacity * 2))
                }
                var status: Int32 = Z_OK
                let roomBeforeLimit = capacityLimit - output.writerIndex
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { free in
                    let room = min(free.count, roomBeforeLimit)
                    stream.pointee.next_out = free.bindMemory(to: Bytef.self).baseAddress
                    stream.pointee.avail_out = uInt(room)
                    status = CZlibInflate.inflate(stream, Z_NO_FLUSH)
                    return room - Int(stream.pointee.avail_out)
                }
                switch status {
                case Z_STREAM_END where stream.pointee.avail_in == 0:
                    return .success(())
                case Z_STREAM_END where format == .gzip:
                    // Another member follows.
                    guard inflateReset(stream) == Z_OK else {
                        return .failure(DMSError(.internalError, "zlib could not start the next gzip member"))
                    }
                case Z_STREAM_END:
                    return .failure(DMSError(.invalidInput, "the request body has \(stream.pointee.avail_in) bytes after the end of its \(format.name) stream"))
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.pointee.avail_in == 0:
                    return .failure(DMSError(.invalidInput, "the request body's \(format.name) stream is cut short"))
                case Z_NEED_DICT:
                    return .failure(DMSError(.invalidInput, "the request body's \(format.name) stream needs a preset dictionary, which is not supported"))
                case Z_MEM_ERROR:
                    return .failure(DMSError(.internalError, "zlib ran out of memory inflating the request body"))
                case Z_DATA_ERROR:
                    let reason = stream.pointee.msg.map { String(cString: $0) } ?? "error \(status)"
                    return .failure(DMSError(.invalidInput, "the request body is not valid \(format.name) data (\(reason))"))
                default:
                    // Z_BUF_ERROR with input left cannot happen (there is always room for output);
                    // retrying it would loop without end.
                    return .failure(DMSError(.internalError, "zlib stopped inflating the request body (error \(status))"))
                }
            }
            // Past the limit: the check below answers.
            return .success(())
        }
        try outcome.get()
        guard output.readableBytes <= limit else {
            throw DMSError(.payloadTooLarge, "the request body inflates to more than the limit of \(limit) bytes")
        }
        return output
    }
}
