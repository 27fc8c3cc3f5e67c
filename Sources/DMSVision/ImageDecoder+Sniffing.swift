extension ImageDecoder {
    /// Whether `bytes` start like a JPEG or PNG file (used to tell an uploaded image from a
    /// base64 text field).
    public static func looksLikeImage(_ bytes: [UInt8]) -> Bool {
        ImageFormat(sniffing: bytes) != nil
    }
}

extension ImageDecodingError {
    /// Whether the image was refused for its size rather than its content.
    var isTooLarge: Bool {
        if case .tooManyPixels = kind { return true }
        return false
    }
}
