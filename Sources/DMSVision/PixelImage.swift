/// An 8-bit image with interleaved channels, stored row by row.
public struct PixelImage: Sendable, Equatable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// Channels per pixel: 1 (gray) or 3 (RGB).
    public var channels: Int
    /// `height × width × channels` bytes, row-major, channels interleaved, RGB order for colour.
    public var pixels: [UInt8]

    /// Creates an image from its pixel bytes; `pixels.count` must be `height × width × channels`.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0, "image sides must be positive")
        precondition(channels == 1 || channels == 3, "channels must be 1 or 3")
        precondition(pixels.count == width * height * channels, "pixel count does not match the size")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Writes the image as planar CHW float32 values in 0...255 (channel 0's plane, then channel 1's, ...).
    ///
    /// `buffer` must hold exactly `channels × height × width` floats, for example one slot of a batch tensor.
    public func writeCHW(into buffer: UnsafeMutableBufferPointer<Float>) {
        let planeSize = width * height
        precondition(buffer.count == channels * planeSize, "CHW buffer must hold channels × height × width floats")
        precondition(pixels.count == channels * planeSize, "pixel count does not match the size")
        guard let destination = buffer.baseAddress else { return }
        pixels.withUnsafeBufferPointer { source in
            for channel in 0..<channels {
                let plane = destination + channel * planeSize
                var sourceIndex = channel
                for index in 0..<planeSize {
                    plane[index] = Float(source[sourceIndex])
                    sourceIndex += channels
                }
            }
        }
    }
}

extension PixelImage {
    /// The `height × width` window whose top left corner is at (`top`, `left`).
    func cropped(top: Int, left: Int, height: Int, width: Int) -> PixelImage {
        precondition(top >= 0 && left >= 0 && top + height <= self.height && left + width <= self.width, "the crop must lie inside the image")
        if top == 0, left == 0, height == self.height, width == self.width { return self }
        var pixels: [UInt8] = []
        pixels.reserveCapacity(height * width * channels)
        for row in top..<(top + height) {
            let start = (row * self.width + left) * channels
            pixels.append(contentsOf: self.pixels[start..<(start + width * channels)])
        }
        return PixelImage(width: width, height: height, channels: channels, pixels: pixels)
    }
}
