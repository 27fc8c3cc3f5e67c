/// Why ``ImageDecoder/decode(_:mode:)`` refused or failed to decode an image.
public struct ImageDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Kind: Sendable, Equatable {
        /// The bytes start with neither the JPEG nor the PNG signature.
        case unsupportedFormat
        /// The data is damaged, truncated or otherwise undecodable; the detail comes from the codec.
        case corrupt(String)
        /// The header declares more pixels than the decoder's limit, so nothing was decoded.
        case tooManyPixels(width: Int, height: Int, limit: Int)
    }

    /// The kind of failure.
    public let kind: Kind

    /// Creates an error of the given kind.
    public init(_ kind: Kind) {
        self.kind = kind
    }

    /// A one-line message suitable for an API error response.
    public var description: String {
        switch kind {
        case .unsupportedFormat:
            "unsupported image format: expected JPEG or PNG data"
        case .corrupt(let detail):
            "corrupt image data: \(detail)"
        case .tooManyPixels(let width, let height, let limit):
            "image too large: \(width)x\(height) = \(width * height) pixels exceeds the limit of \(limit)"
        }
    }
}
