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
    init(httpBody body: ByteBuffer, contentType: String?) throws(DMSError) {
        if let contentType, let mediaType = MediaType(from: contentType), mediaType.isType(.multipartForm) {
            guard let boundary = mediaType.parameter?.value, mediaType.parameter?.name.lowercased() == "boundary" else {
                throw DMSError(.invalidInput, "multipart/form-data without a boundary parameter")
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
        var parts: [Part] = []
        var headers = HTTPHeaders()
        var content: [UInt8] = []
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in headers.add(name: name, value: value) }
        parser.onBody = { chunk in content.append(contentsOf: chunk.readableBytesView) }
        try refuseNonASCIIHeaderNames(body, boundary: boundary)
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
    /// (`--` boundary CRLF) up to the blank line that ends the part's headers.
    static func refuseNonASCIIHeaderNames(_ body: ByteBuffer, boundary: String) throws(DMSError) {
        let bytes = body.readableBytesView
        let delimiter = Array("--\(boundary)\r\n".utf8)
        var searchStart = bytes.startIndex
        while let found = bytes[searchStart...].firstRange(of: delimiter) {
            var lineStart = found.upperBound
            while lineStart < bytes.endIndex {
                let lineEnd = bytes[lineStart...].firstRange(of: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])?.lowerBound ?? bytes.endIndex
                if lineEnd == lineStart { break }
                let nameEnd = bytes[lineStart..<lineEnd].firstIndex(of: UInt8(ascii: ":")) ?? lineEnd
                guard bytes[lineStart..<nameEnd].allSatisfy({ $0 < 0x80 }) else {
                    throw DMSError(.invalidInput, "the multipart/form-data body is malformed (a part's header name is not ASCII)")
                }
                lineStart = min(lineEnd + 2, bytes.endIndex)
            }
            searchStart = found.upperBound
        }
    }
}
