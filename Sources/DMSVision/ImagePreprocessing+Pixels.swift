import DMSCore

extension ImagePreprocessing {
    /// The decoded image resized and centre-cropped as this preprocessing says, `size` being the
    /// image size the model takes. A crop larger than an image that is not resized first is an
    /// `.invalidInput` error.
    func shaped(_ image: PixelImage, to size: Size) throws(DMSError) -> PixelImage {
        let resized: PixelImage
        switch resize {
        case .exact(let height, let width):
            resized = SeparableResizer.resize(image, width: width, height: height, interpolation: interpolation)
        case .shorterSide(let length):
            // Rounded down, as `mx.image.resize_short`.
            let (height, width) = image.height > image.width
                ? (length * image.height / image.width, length) : (length, length * image.width / image.height)
            resized = SeparableResizer.resize(image, width: width, height: height, interpolation: interpolation)
        case .none:
            resized = image
        }
        guard let crop = centerCrop else { return resized }
        guard resized.height >= crop.height, resized.width >= crop.width else {
            throw DMSError(.invalidInput, "the image is \(resized.width)×\(resized.height) pixels, smaller than the model's centre crop of \(crop.width)×\(crop.height)")
        }
        return resized.cropped(top: (resized.height - crop.height) / 2, left: (resized.width - crop.width) / 2, height: crop.height, width: crop.width)
    }

    /// Writes `image` (RGB or gray, already shaped) into `buffer` as the model takes it: colour
    /// order, `(pixel × scale − mean) / std` per channel in float32, and layout.
    func write(_ image: PixelImage, into buffer: UnsafeMutableBufferPointer<Float>) {
        if keepsPixelValues, color != .bgr, layout == .nchw {
            image.writeCHW(into: buffer)
            return
        }
        let channels = image.channels, planeSize = image.width * image.height
        precondition(buffer.count == channels * planeSize, "the buffer must hold channels × height × width floats")
        // The source channel of each model channel: BGR reads RGB backwards.
        let sourceChannel = color == .bgr ? [2, 1, 0] : Array(0..<channels)
        image.pixels.withUnsafeBufferPointer { source in
            for pixel in 0..<planeSize {
                for channel in 0..<channels {
                    let value = (Float(source[pixel * channels + sourceChannel[channel]]) * scale - mean[channel]) / std[channel]
                    buffer[layout == .nchw ? channel * planeSize + pixel : pixel * channels + channel] = value
                }
            }
        }
    }
}
