import DMSVision
import Testing

@Suite("PixelImage")
struct PixelImageTests {
    @Test func writesRGBAsPlanes() {
        let image = PixelImage(width: 2, height: 2, channels: 3,
                               pixels: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255])
        var buffer = [Float](repeating: -1, count: 12)
        buffer.withUnsafeMutableBufferPointer { image.writeCHW(into: $0) }
        #expect(buffer == [1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 255])
    }

    @Test func writesIntoASlotOfABatch() {
        let gray = PixelImage(width: 3, height: 1, channels: 1, pixels: [0, 128, 255])
        var batch = [Float](repeating: -1, count: 9)
        batch.withUnsafeMutableBufferPointer { all in
            gray.writeCHW(into: UnsafeMutableBufferPointer(rebasing: all[3..<6]))
        }
        #expect(batch == [-1, -1, -1, 0, 128, 255, -1, -1, -1])
    }
}
