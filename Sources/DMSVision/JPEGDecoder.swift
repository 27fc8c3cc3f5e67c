import CTurboJPEG

/// JPEG decoding through libjpeg-turbo's TurboJPEG 2.x API, reproducing OpenCV 3.4's JPEG reader.
///
/// OpenCV asks libjpeg for RGB (colour) or grayscale (gray) output, except for 4-component JPEGs, which it
/// reads as raw CMYK and converts itself. A TurboJPEG handle is not thread-safe, so each call makes its own.
enum JPEGDecoder {
    static func decode(_ bytes: [UInt8], mode: ColorMode, maxPixels: Int) throws(ImageDecodingError) -> PixelImage {
        guard let handle = tjInitDecompress() else {
            throw ImageDecodingError(.corrupt("cannot create a TurboJPEG decompressor"))
        }
        defer { tjDestroy(handle) }

        var width: Int32 = 0
        var height: Int32 = 0
        var subsampling: Int32 = 0
        var colorspace: Int32 = 0
        let headerStatus = bytes.withUnsafeBufferPointer { jpeg in
            tjDecompressHeader3(handle, jpeg.baseAddress, UInt(jpeg.count), &width, &height, &subsampling, &colorspace)
        }
        guard headerStatus == 0 else {
            throw ImageDecodingError(.corrupt(errorMessage(handle)))
        }
        try ImageDecoder.checkDeclaredSize(width: Int(width), height: Int(height), maxPixels: maxPixels)

        let isCMYK = colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue)
        let channels = mode == .rgb ? 3 : 1
        let format: TJPF
        let decodedChannels: Int
        if isCMYK {
            (format, decodedChannels) = (TJPF_CMYK, 4)
        } else {
            (format, decodedChannels) = mode == .rgb ? (TJPF_RGB, 3) : (TJPF_GRAY, 1)
        }
        let pixelCount = Int(width) * Int(height)
        var decoded = [UInt8](repeating: 0, count: pixelCount * decodedChannels)
        let status = bytes.withUnsafeBufferPointer { jpeg in
            decoded.withUnsafeMutableBufferPointer { output in
                tjDecompress2(handle, jpeg.baseAddress, UInt(jpeg.count), output.baseAddress,
                              width, 0, height, Int32(format.rawValue), 0)
            }
        }
        guard status == 0 else {
            throw ImageDecodingError(.corrupt(errorMessage(handle)))
        }
        let pixels = isCMYK ? convertCMYK(decoded, toGray: mode == .gray) : decoded
        return PixelImage(width: Int(width), height: Int(height), channels: channels, pixels: pixels)
    }

    private static func errorMessage(_ handle: tjhandle) -> String {
        guard let text = tjGetErrorStr2(handle) else { return "unknown TurboJPEG error" }
        return String(cString: text)
    }

    /// OpenCV's CMYK conversion, applied to libjpeg's raw CMYK samples (no Adobe inversion):
    /// each of C, M, Y becomes `K − ((255 − v)·K >> 8)`, giving R, G, B; gray is then
    /// `(4899·R + 9617·G + 1868·B + 8192) >> 14` (0.299, 0.587, 0.114 in 14-bit fixed point).
    private static func convertCMYK(_ cmyk: [UInt8], toGray: Bool) -> [UInt8] {
        let pixelCount = cmyk.count / 4
        let channels = toGray ? 1 : 3
        return [UInt8](unsafeUninitializedCapacity: pixelCount * channels) { output, initialized in
            cmyk.withUnsafeBufferPointer { input in
                for index in 0..<pixelCount {
                    let k = Int(input[4 * index + 3])
                    let red = k - (((255 - Int(input[4 * index])) * k) >> 8)
                    let green = k - (((255 - Int(input[4 * index + 1])) * k) >> 8)
                    let blue = k - (((255 - Int(input[4 * index + 2])) * k) >> 8)
                    if toGray {
                        output[index] = UInt8((4899 * red + 9617 * green + 1868 * blue + 8192) >> 14)
                    } else {
                        output[3 * index] = UInt8(red)
                        output[3 * index + 1] = UInt8(green)
                        output[3 * index + 2] = UInt8(blue)
                    }
                }
            }
            initialized = pixelCount * channels
        }
    }
}
