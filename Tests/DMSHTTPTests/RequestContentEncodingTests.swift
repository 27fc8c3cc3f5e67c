import DMSCore
import NIOCore
import Testing

@testable import DMSHTTP

@Suite("request content encoding")
struct RequestContentEncodingTests {
    /// `{"inputs":[1,2,3]}`, the body every stream below holds (made with Python's gzip and zlib).
    static let json = Array(#"{"inputs":[1,2,3]}"#.utf8)
    /// The deflate data of `json`, shared by the three formats.
    static let deflated: [UInt8] = [
        0xab, 0x56, 0xca, 0xcc, 0x2b, 0x28, 0x2d, 0x29, 0x56, 0xb2, 0x8a, 0x36, 0xd4, 0x31, 0xd2, 0x31, 0x8e, 0xad, 0x05, 0x00,
    ]
    static let gzip: [UInt8] =
        [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03] + deflated + [0x99, 0x35, 0x7c, 0x5f, 0x12, 0x00, 0x00, 0x00]
    static let zlib: [UInt8] = [0x78, 0x9c] + deflated + [0x3a, 0x7d, 0x05, 0xc0]
    /// 100 KiB of zeros, gzipped to 133 bytes.
    static let gzippedZeros: [UInt8] =
        [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03]
        + [0xed, 0xc1, 0x01, 0x01, 0x00, 0x00, 0x00, 0x82, 0x20, 0xff, 0xaf, 0x6e, 0x48, 0x40, 0x01]
        + [UInt8](repeating: 0, count: 98) + [0x7c, 0x18, 0x61, 0x85, 0xf8, 0x4a, 0x00, 0x90, 0x01, 0x00]

    static func decode(_ bytes: [UInt8], _ encoding: RequestContentEncoding, limit: Int = 1 << 20) throws(DMSError) -> [UInt8] {
        let decoded = try encoding.decode(ByteBuffer(bytes: bytes), limit: limit)
        return Array(decoded.readableBytesView)
    }

    static func failure(_ bytes: [UInt8], _ encoding: RequestContentEncoding, limit: Int = 1 << 20) -> DMSError? {
        do {
            _ = try decode(bytes, encoding, limit: limit)
            return nil
        } catch {
            return error
        }
    }

    @Test func namesTheEncodingsItDecodes() throws {
        #expect(try RequestContentEncoding(header: nil) == .identity)
        #expect(try RequestContentEncoding(header: "") == .identity)
        #expect(try RequestContentEncoding(header: "identity") == .identity)
        #expect(try RequestContentEncoding(header: "gzip") == .gzip)
        #expect(try RequestContentEncoding(header: "X-GZIP") == .gzip)
        #expect(try RequestContentEncoding(header: " Deflate ") == .deflate)
        #expect(try RequestContentEncoding(header: "identity, gzip") == .gzip)
    }

    @Test(arguments: ["br", "compress", "zstd", "gzip, deflate", "gzip, gzip"])
    func refusesOtherEncodingsWith415(header: String) {
        let error = #expect(throws: WireError.self) { try RequestContentEncoding(header: header) }
        #expect(error?.status == .unsupportedMediaType)
        #expect(error?.type == "UnsupportedMediaType")
        #expect(error?.message.contains("'\(header)'") == true)
    }

    @Test func decodesEachFormat() throws {
        #expect(try Self.decode(Self.json, .identity) == Self.json)
        #expect(try Self.decode(Self.gzip, .gzip) == Self.json)
        #expect(try Self.decode(Self.zlib, .deflate) == Self.json)
        // A raw deflate stream sent as "deflate", as some clients do.
        #expect(try Self.decode(Self.deflated, .deflate) == Self.json)
        // gzip members one after another decode to their contents joined.
        #expect(try Self.decode(Self.gzip + Self.gzip, .gzip) == Self.json + Self.json)
        #expect(try Self.decode(Self.gzippedZeros, .gzip) == [UInt8](repeating: 0, count: 100 << 10))
    }

    @Test func boundsTheInflatedSize() {
        #expect((try? Self.decode(Self.gzip, .gzip, limit: Self.json.count)) == Self.json)
        #expect(Self.failure(Self.gzip, .gzip, limit: Self.json.count - 1)?.code == .payloadTooLarge)
        // 133 bytes that would inflate to 100 KiB stop at the limit.
        let bomb = Self.failure(Self.gzippedZeros, .gzip, limit: 64 << 10)
        #expect(bomb?.code == .payloadTooLarge)
        #expect(bomb?.message == "the request body inflates to more than the limit of 65536 bytes")
    }

    @Test func refusesStreamsThatAreNotWhole() {
        let cut = Self.failure(Array(Self.gzip.dropLast(4)), .gzip)
        #expect(cut?.code == .invalidInput)
        #expect(cut?.message == "the request body's gzip stream is cut short")
        #expect(Self.failure([], .gzip)?.code == .invalidInput)
        #expect(Self.failure(Array(Self.zlib.dropLast(6)), .deflate)?.message == "the request body's deflate stream is cut short")
        let trailing = Self.failure(Self.zlib + [0x41, 0x42], .deflate)
        #expect(trailing?.message == "the request body has 2 bytes after the end of its deflate stream")
        let notGzip = Self.failure(Self.json, .gzip)
        #expect(notGzip?.code == .invalidInput)
        #expect(notGzip?.message.hasPrefix("the request body is not valid gzip data (") == true)
        var badChecksum = Self.gzip
        badChecksum[badChecksum.count - 8] ^= 0xFF
        #expect(Self.failure(badChecksum, .gzip)?.message == "the request body is not valid gzip data (incorrect data check)")
        // A zlib header with the preset-dictionary flag (FDICT) and a dictionary id.
        let needsDictionary = Self.failure([0x78, 0xBB, 0, 0, 0, 1, 0x03, 0x00], .deflate)
        #expect(needsDictionary?.code == .invalidInput)
        #expect(needsDictionary?.message == "the request body's deflate stream needs a preset dictionary, which is not supported")
    }
}
