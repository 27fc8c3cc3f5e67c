import DMSCore
import Testing

@testable import DMSVision

@Suite("image outputs")
struct ImageOutputTests {
    @Test func readsPlanarAndInterleavedLayouts() throws {
        let planar = Tensor(shape: [1, 3, 2, 1], floats: [10, 11, 20, 21, 30, 31])
        let interleaved = Tensor(shape: [1, 2, 1, 3], floats: [10, 20, 30, 11, 21, 31])
        let expected = PixelImage(width: 1, height: 2, channels: 3, pixels: [10, 20, 30, 11, 21, 31])
        #expect(try ImageOutput.images(from: planar, name: "y") == [expected])
        #expect(try ImageOutput.images(from: interleaved, name: "y") == [expected])
    }

    @Test func clampsAndRoundsFloats() throws {
        let images = try ImageOutput.images(from: Tensor(shape: [2, 1, 1, 2], floats: [-5, 300, 1.5, 2.5]), name: "y")
        #expect(images.map(\.pixels) == [[0, 255], [2, 2]])
    }

    @Test func refusesTensorsThatAreNotImages() {
        #expect(throws: DMSError.self) { try ImageOutput.images(from: Tensor(shape: [1, 10], floats: Array(repeating: 0, count: 10)), name: "y") }
        #expect(throws: DMSError.self) { try ImageOutput.images(from: Tensor(shape: [1, 2, 2, 2], floats: Array(repeating: 0, count: 8)), name: "y") }
    }

    @Test func jpegRoundTripsThroughTheDecoder() throws {
        let pixels: [UInt8] = (0..<(16 * 8 * 3)).map { (index: Int) -> UInt8 in UInt8(64 + (index * 7) % 128) }
        let image = PixelImage(width: 16, height: 8, channels: 3, pixels: pixels)
        let jpeg = try JPEGEncoder.encode(image, quality: 100)
        let decoded = try ImageDecoder().decode(jpeg, mode: .rgb)
        #expect(decoded.width == 16 && decoded.height == 8)
        let worst = zip(decoded.pixels, pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(worst <= 40)
        let gray = try ImageDecoder().decode(try JPEGEncoder.encode(PixelImage(width: 4, height: 4, channels: 1, pixels: Array(repeating: 77, count: 16))), mode: .gray)
        #expect(gray.pixels.allSatisfy { abs(Int($0) - 77) <= 1 })
    }
}
