import DMSCore
import Foundation
import Hummingbird
import MultipartKit
import NIOHTTP1

extension PredictionRequest {
    /// Reads a prediction request from an HTTP body.
    ///
    /// - `multipart/form-data`: each field is a part, named as sent (`input0`, `input1`, … or the
    ///   signature's `data_name`s); file uploads and text fields (for example base64 images) both
    ///   work.
    /// - `application/json`: an object maps input names (`input0`… or `data_name`s) to their
    ///   values; a bare array is `input0` (for single-input models).
    /// - any other content type (an image posted as the raw body): the body is `input0`.
    package init(httpBody body: ByteBuffer, contentType: String?) throws(DMSError) {
        if let contentType, let mediaType = MediaType(from: contentType), mediaType.isType(.multipartForm) {
            // An empty boundary would trip MultipartKit's precondition (a crash); RFC 2046 allows
            // 1 to 70 characters, which also bounds the cost of searching the body for it.
            guard let boundary = mediaType.parameter?.value, mediaType.parameter?.name.lowercased() == "boundary", !boundary.isEmpty else {
                throw DMSError(.invalidInput, "multipart/form-data without a boundary parameter")
            }
            guard boundary.utf8.count <= 70 else {
                throw DMSError(.invalidInput, "the multipart boundary is \(boundary.utf8.count) characters long; RFC 2046 allows at most 70")
            }
            self.init(parts: try Self.multipartParts(body, boundary: boundary))
        } else if let contentType, let mediaType = MediaType(from: contentType), mediaType.isType(.applicationJson) {
            self.init(parts: try Self.jsonParts(body))
        } else {
            guard body.readableBytes > 0 else {
                throw DMSError(.invalidInput, "the request has no body; send the inputs as multipart/form-data fields input0, input1, …")
            }
            self.init(parts: [Part(name: "input0", bytes: Array(body.readableBytesView), contentType: contentType, isFile: true)])
        }
    }

    /// The media types an `Accept` header lists, in the order written, parameters (`;q=0.9`)
    /// dropped; empty when there is no header.
    static func mediaTypes(acceptHeader: String?) -> [String] {
        (acceptHeader ?? "").split(separator: ",").compactMap { item in
            let mediaType = item.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces)
            return mediaType.isEmpty ? nil : mediaType
        }
    }

    private static func jsonParts(_ body: ByteBuffer) throws(DMSError) -> [Part] {
        let bytes = Array(body.readableBytesView)
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)
        } catch {
            throw DMSError(.invalidInput, "the JSON body is malformed (\(error.localizedDescription))", cause: error)
        }
        if value is [Any] {
            return [Part(name: "input0", bytes: bytes, contentType: "application/json", isFile: false)]
        }
        guard let object = value as? [String: Any], !object.isEmpty else {
            throw DMSError(.invalidInput, "the JSON body must be an object of inputs ({\"input0\": [...]}) or an array")
        }
        var parts: [Part] = []
        for (name, member) in object.sorted(by: { $0.key < $1.key }) {
            guard let encoded = try? JSONSerialization.data(withJSONObject: member, options: .fragmentsAllowed) else {
                throw DMSError(.invalidInput, "the JSON input '\(name)' cannot be read")
            }
            parts.append(Part(name: name, bytes: Array(encoded), contentType: "application/json", isFile: false))
        }
        return parts
    }

    private static func multipartParts(_ body: ByteBuffer, boundary: String) throws(DMSError) -> [Part] {
        try refuseNonASCIIHeaderNames(body, boundary: boundary)
        var parts: [Part] = []
        var headers = HTTPHeaders()
        var content: [UInt8] = []
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in headers.add(name: name, value: value) }
        parser.onBody = { chunk in content.append(contentsOf: chunk.readableBytesView) }
        var unnamed = false
        parser.onPartComplete = {
            let part = MultipartPart(headers: headers, body: ByteBuffer())
            if let name = part.name {
                let disposition = headers.first(name: "Content-Disposition") ?? ""
                parts.append(Part(name: name, bytes: content, contentType: headers.first(name: "Content-Type"), isFile: disposition.contains("filename")))
            } else {
                unnamed = true
            }
            headers = HTTPHeaders()
            content = []
        }
        do {
            try parser.execute(body)
        } catch {
            throw DMSError(.invalidInput, "the multipart/form-data body is malformed (\(error))", cause: error)
        }
        guard !unnamed else {
            throw DMSError(.invalidInput, "a multipart part has no name in its Content-Disposition header")
        }
        guard !parts.isEmpty else {
            throw DMSError(.invalidInput, "the multipart/form-data body has no fields; send input0, input1, …")
        }
        return parts
    }

    /// Refuses a multipart body in which a part's header name (or a header line without a colon)
    /// holds a byte beyond ASCII. MultipartKit 4.7.1, the newest version available here, looks
    /// such a byte up in a 128-entry table and traps, which would take the whole server down, so
    /// the lines its header parser will read are checked first: those after each delimiter
    /// (`--` boundary CRLF) up to the blank line that ends the part's headers. Each byte is looked
    /// at once at most: the search for the next delimiter starts after the lines already checked.
    static func refuseNonASCIIHeaderNames(_ body: ByteBuffer, boundary: String) throws(DMSError) {
        let delimiter = Array("--\(boundary)\r\n".utf8)
        let clean = body.withUnsafeReadableBytes { bytes -> Bool in
            guard let base = bytes.baseAddress else { return true }
            let end = bytes.count
            var searchStart = 0
            // memchr and memcmp keep the scan fast: every byte is looked at a bounded number of
            // times (the delimiter is at most 76 bytes).
            func nextDelimiter(from start: Int) -> Int? {
                var candidate = start
                while candidate + delimiter.count <= end, let dash = memchr(base + candidate, Int32(UInt8(ascii: "-")), end - candidate) {
                    let position = base.distance(to: dash)
                    guard position + delimiter.count <= end else { return nil }
                    if delimiter.withUnsafeBytes({ memcmp(dash, $0.baseAddress!, delimiter.count) }) == 0 { return position }
                    candidate = position + 1
                }
                return nil
            }
            while searchStart < end, let found = nextDelimiter(from: searchStart) {
                var lineStart = found + delimiter.count
                while lineStart < end {
                    let carriageReturn = memchr(base + lineStart, Int32(UInt8(ascii: "\r")), end - lineStart)
                    let lineEnd = carriageReturn.map { base.distance(to: $0) } ?? end
                    if lineEnd == lineStart { break }
                    let colon = memchr(base + lineStart, Int32(UInt8(ascii: ":")), lineEnd - lineStart)
                    let nameEnd = colon.map { base.distance(to: $0) } ?? lineEnd
                    if bytes[lineStart..<nameEnd].contains(where: { $0 >= 0x80 }) { return false }
                    lineStart = min(lineEnd + 2, end)
                }
                searchStart = lineStart
            }
            return true
        }
        guard clean else {
            throw DMSError(.invalidInput, "the multipart/form-data body is malformed (a part's header name is not ASCII)")
        }
    }
}
