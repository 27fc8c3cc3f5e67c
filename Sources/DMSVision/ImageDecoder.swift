/// Decodes JPEG and PNG bytes to 8-bit pixels exactly as MXNet 1.9.1's `mx.img.imdecode` does
/// (OpenCV 3.4's `imdecode`, then BGR → RGB for colour).
///
/// The header is read first, and an image whose declared `width × height` exceeds ``maxPixels`` is refused
/// before any pixel is decoded. Every call uses its own codec state, so one decoder may be used from many
/// threads at once.
public struct ImageDecoder: Sendable {
    /// The largest `width × height` that will be decoded.
    public let maxPixels: Int

    /// Creates a decoder that refuses images with more than `maxPixels` pixels.
    public init(maxPixels: Int = 40_000_000) {
        precondition(maxPixels > 0, "maxPixels must be positive")
        self.maxPixels = maxPixels
    }

    /// Decodes a JPEG or PNG image, recognised by its signature bytes.
    ///
    /// - `.rgb` gives 3 channels: gray and palette images are expanded, alpha is dropped (not composited),
    ///   16-bit PNG samples keep their high byte, CMYK JPEGs are converted with OpenCV's integer formula.
    /// - `.gray` gives 1 channel: libjpeg's luminance output for JPEG, libpng's `rgb_to_gray` (0.299, 0.587)
    ///   for colour PNG, OpenCV's CMYK → gray formula for CMYK JPEG.
    /// - EXIF orientation is ignored: pixels come out as stored.
    ///
    /// - Throws: ``ImageDecodingError`` for unknown formats, damaged or truncated data (libjpeg warnings
    ///   included), zero-sized images, and images larger than ``maxPixels``.
    public func decode(_ bytes: [UInt8], mode: ColorMode) throws(ImageDecodingError) -> PixelImage {
        switch ImageFormat(sniffing: bytes) {
        case .jpeg:
            try JPEGDecoder.decode(bytes, mode: mode, maxPixels: maxPixels)
        case .png:
            try PNGDecoder.decode(bytes, mode: mode, maxPixels: maxPixels)
        case nil:
            throw ImageDecodingError(.unsupportedFormat)
        }
    }

    /// Throws unless a declared size is non-empty and within `maxPixels`.
    static func checkDeclaredSize(width: Int, height: Int, maxPixels: Int) throws(ImageDecodingError) {
        guard width > 0, height > 0 else {
            throw ImageDecodingError(.corrupt("no image data: the header declares \(width)x\(height) pixels"))
        }
        guard width <= maxPixels / height else {
            throw ImageDecodingError(.tooManyPixels(width: width, height: height, limit: maxPixels))
        }
    }
}
