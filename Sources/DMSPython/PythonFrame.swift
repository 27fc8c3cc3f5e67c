import DMSCore
import Foundation

/// One frame of the channel between the server and a Python worker process (the format
/// `python/dms/channel.py` documents): a little-endian `UInt32` header length and `UInt64`
/// payload length, a JSON header, then the payload holding the frame's blobs back to back.
/// Blobs (request parts, tensors, responses) are named in the header by `offset` and `length`,
/// so tensor bytes cross as they are.
///
/// `@unchecked Sendable`: the header is a freshly parsed JSON tree (immutable Foundation values)
/// that passes from the worker's thread to the one request that waits for it, never shared.
package struct PythonFrame: @unchecked Sendable {
    /// The frame's header, a JSON object.
    package var header: [String: Any]
    var payload: [UInt8]

    /// The frame size the server accepts from a worker: a 64 MiB header, a 4 GiB payload.
    static let maxHeaderBytes = 64 << 20
    static let maxPayloadBytes = 4 << 30
    /// The bytes of the two lengths before the header.
    package static let prefixBytes = 12

    init(header: [String: Any], payload: [UInt8]) {
        self.header = header
        self.payload = payload
    }

    /// A received frame: its header's bytes must hold a JSON object.
    package init(headerBytes: [UInt8], payload: [UInt8]) throws(PythonChannelError) {
        guard let header = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any] else {
            throw .malformed("a header that is not a JSON object")
        }
        self.init(header: header, payload: payload)
    }

    /// The header and payload lengths a received frame's prefix announces; beyond the limits
    /// is an error (before anything is allocated for them).
    package static func lengths(ofPrefix prefix: [UInt8]) throws(PythonChannelError) -> (header: Int, payload: Int) {
        precondition(prefix.count == prefixBytes, "a frame prefix is \(prefixBytes) bytes")
        let headerLength = prefix.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
        let payloadLength = prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt64.self)) }
        guard headerLength <= maxHeaderBytes, payloadLength <= UInt64(maxPayloadBytes) else {
            throw .malformed("a frame of \(headerLength) + \(payloadLength) bytes")
        }
        return (headerLength, Int(payloadLength))
    }

    /// The bytes of a blob the header describes (`{"offset": …, "length": …}`).
    package func blob(_ description: Any?) throws(PythonChannelError) -> ArraySlice<UInt8> {
        guard let fields = description as? [String: Any], let offset = fields["offset"] as? Int, let length = fields["length"] as? Int,
            offset >= 0, length >= 0, offset <= payload.count - length
        else {
            throw .malformed("a blob outside the frame's payload")
        }
        return payload[offset..<(offset + length)]
    }
}

/// Builds a frame to send: blobs are added one after another and described for the header.
struct PythonFrameBuilder {
    private(set) var payload: [UInt8] = []

    /// Adds `bytes` to the payload and returns their description for the header.
    mutating func add(_ bytes: some Collection<UInt8>) -> JSONValue {
        let offset = payload.count
        payload.append(contentsOf: bytes)
        return .object([("offset", .integer(Int64(offset))), ("length", .integer(Int64(bytes.count)))])
    }

    /// The frame's bytes with `header`.
    func encoded(header: JSONValue) -> [UInt8] {
        let headerBytes = header.serialized()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(12 + headerBytes.count + payload.count)
        withUnsafeBytes(of: UInt32(headerBytes.count).littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(payload.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: headerBytes)
        bytes.append(contentsOf: payload)
        return bytes
    }
}

/// Why an exchange with a worker process failed, for the process itself rather than the
/// service's code: the worker is then replaced.
package enum PythonChannelError: Error, CustomStringConvertible {
    /// The process closed its end: it exited or crashed.
    case closed
    /// No answer within the time limit.
    case timedOut(Duration)
    /// A frame that does not follow the format.
    case malformed(String)
    /// The socket failed.
    case io(String)

    package var description: String {
        switch self {
        case .closed: "the Python worker process exited"
        case .timedOut(let limit): "the Python worker did not answer within \(limit.components.seconds) seconds"
        case .malformed(let what): "the Python worker sent a malformed frame (\(what))"
        case .io(let what): "the channel to the Python worker failed (\(what))"
        }
    }
}
