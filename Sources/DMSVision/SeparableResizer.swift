import DMSCore

/// Resizing with per-axis taps (`ResampleTaps`): first along rows, then along columns, in
/// float32, each result rounded to the nearest level. Serves `INTER_LINEAR` and `INTER_AREA`;
/// the seed's bicubic has its own bit-exact resizer (`BicubicResizer`).
enum SeparableResizer {
    static func resize(_ image: PixelImage, width: Int, height: Int, interpolation: ImagePreprocessing.Interpolation) -> PixelImage {
        switch interpolation {
        case .bicubic:
            return BicubicResizer.resize(image, width: width, height: height)
        case .bilinear:
            return resize(
                image, columns: .linear(sourceLength: image.width, destinationLength: width),
                rows: .linear(sourceLength: image.height, destinationLength: height))
        case .area:
            return resize(
                image, columns: .area(sourceLength: image.width, destinationLength: width),
                rows: .area(sourceLength: image.height, destinationLength: height))
        }
    }

    private static func resize(_ image: PixelImage, columns: ResampleTaps, rows: ResampleTaps) -> PixelImage {
        let channels = image.channels
        let width = columns.indices.count, height = rows.indices.count
        if width == image.width, height == image.height { return image }
        let rowLength = width * channels
        // Every source row resampled horizontally (rows read by several outputs are computed once).
        var horizontal = [Float](repeating: 0, count: image.height * rowLength)
        image.pixels.withUnsafeBufferPointer { source in
            for row in 0..<image.height {
                let sourceRow = row * image.width * channels, targetRow = row * rowLength
                for x in 0..<width {
                    let indices = columns.indices[x], weights = columns.weights[x]
                    for channel in 0..<channels {
                        var sum: Float = 0
                        for (index, weight) in zip(indices, weights) { sum += weight * Float(source[sourceRow + index * channels + channel]) }
                        horizontal[targetRow + x * channels + channel] = sum
                    }
                }
            }
        }
        var pixels = [UInt8](repeating: 0, count: height * rowLength)
        for y in 0..<height {
            let indices = rows.indices[y], weights = rows.weights[y]
            for offset in 0..<rowLength {
                var sum: Float = 0
                for (index, weight) in zip(indices, weights) { sum += weight * horizontal[index * rowLength + offset] }
                pixels[y * rowLength + offset] = UInt8(max(0, min(255, sum.rounded())))
            }
        }
        return PixelImage(width: width, height: height, channels: channels, pixels: pixels)
    }
}
