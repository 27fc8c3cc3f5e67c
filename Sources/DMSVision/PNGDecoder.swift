import CPNGShim

/// PNG decoding through libpng with the transformations OpenCV 3.4's PNG reader requests
/// (see `dms_png.h` for why this goes through a small C layer).
enum PNGDecoder {
    private static let messageCapacity = 256

    static func decode(_ bytes: [UInt8], mode: ColorMode, maxPixels: Int) throws(ImageDecodingError) -> PixelImage {
        var message = [CChar](repeating: 0, count: messageCapacity)
        var width: UInt32 = 0
        var height: UInt32 = 0
        let headerStatus = bytes.withUnsafeBufferPointer { png in
            dms_png_read_size(png.baseAddress, png.count, &width, &height, &message, messageCapacity)
        }
        guard headerStatus == 0 else {
            throw ImageDecodingError(.corrupt(text(message)))
        }
        try ImageDecoder.checkDeclaredSize(width: Int(width), height: Int(height), maxPixels: maxPixels)

        let channels = mode == .rgb ? 3 : 1
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * channels)
        let status = bytes.withUnsafeBufferPointer { png in
            pixels.withUnsafeMutableBufferPointer { output in
                dms_png_decode(png.baseAddress, png.count, mode == .gray ? 1 : 0, width, height,
                               output.baseAddress, output.count, &message, messageCapacity)
            }
        }
        guard status == 0 else {
            throw ImageDecodingError(.corrupt(text(message)))
        }
        return PixelImage(width: Int(width), height: Int(height), channels: channels, pixels: pixels)
    }

    private static func text(_ message: [CChar]) -> String {
        let bytes = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return "PNG: " + String(decoding: bytes, as: UTF8.self)
    }
}
