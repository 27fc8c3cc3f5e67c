import DMSVision
import Testing

@Suite("BicubicResizer")
struct BicubicResizerTests {
    @Test(arguments: [1, 3])
    func sameSizeIsACopy(channels: Int) {
        let image = pattern(width: 7, height: 5, channels: channels)
        #expect(BicubicResizer.resize(image, width: 7, height: 5) == image)
    }

    /// The fixed-point weights of a row may sum to 2047...2049, but the error stays below half a level,
    /// so a flat image stays flat whatever the sizes.
    @Test(arguments: [(1, 1, 5, 3), (9, 4, 9, 11), (30, 20, 7, 13), (3, 3, 224, 224), (500, 2, 1, 1)])
    func flatImagesStayFlat(_ sizes: (Int, Int, Int, Int)) {
        for value: UInt8 in [0, 1, 128, 254, 255] {
            for channels in [1, 3] {
                let image = PixelImage(width: sizes.0, height: sizes.1, channels: channels,
                                       pixels: Array(repeating: value, count: sizes.0 * sizes.1 * channels))
                let resized = BicubicResizer.resize(image, width: sizes.2, height: sizes.3)
                #expect(resized.width == sizes.2 && resized.height == sizes.3 && resized.channels == channels)
                #expect(resized.pixels.allSatisfy { $0 == value })
            }
        }
    }

    @Test func channelsDoNotMix() {
        let gray = pattern(width: 13, height: 9, channels: 1)
        let color = PixelImage(width: 13, height: 9, channels: 3, pixels: gray.pixels.flatMap { [$0, 0, 255] })
        let resizedGray = BicubicResizer.resize(gray, width: 6, height: 17)
        let resizedColor = BicubicResizer.resize(color, width: 6, height: 17)
        #expect(stride(from: 1, to: resizedColor.pixels.count, by: 3).allSatisfy { resizedColor.pixels[$0] == 0 })
        #expect(stride(from: 2, to: resizedColor.pixels.count, by: 3).allSatisfy { resizedColor.pixels[$0] == 255 })
        // The gray row is 6 values (all integer path), the colour row 18 (16 float + 2 integer): values may
        // differ by the rounding of the two paths, never by more than one level.
        let firstChannel = stride(from: 0, to: resizedColor.pixels.count, by: 3).map { resizedColor.pixels[$0] }
        #expect(zip(firstChannel, resizedGray.pixels).allSatisfy { abs(Int($0) - Int($1)) <= 1 })
    }

    private func pattern(width: Int, height: Int, channels: Int) -> PixelImage {
        let count = width * height * channels
        return PixelImage(width: width, height: height, channels: channels,
                          pixels: (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ ($0 / 5) &* 11) })
    }
}
