import CTurboJPEG
import DMSCore

/// Encodes 8-bit images as JPEG with libjpeg-turbo (for models whose `output_type` is
/// `image/jpeg`).
public enum JPEGEncoder {
    /// The JPEG bytes of `image` (1 channel: grayscale; 3: RGB with 4:4:4 chroma).
    public static func encode(_ image: PixelImage, quality: Int = 95) throws(DMSError) -> [UInt8] {
        guard let handle = tjInitCompress() else {
            throw DMSError(.internalError, "libjpeg-turbo could not start a compressor")
        }
        defer { tjDestroy(handle) }
        let format = image.channels == 1 ? TJPF_GRAY : TJPF_RGB
        let subsampling = image.channels == 1 ? TJSAMP_GRAY : TJSAMP_444
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            tjCompress2(
                handle, pixels.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(format.rawValue),
                &output, &size, Int32(subsampling.rawValue), Int32(quality), 0)
        }
        defer { if let output { tjFree(output) } }
        guard status == 0, let output else {
            throw DMSError(.internalError, "JPEG encoding failed: \(String(cString: tjGetErrorStr2(handle)))")
        }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }
}
