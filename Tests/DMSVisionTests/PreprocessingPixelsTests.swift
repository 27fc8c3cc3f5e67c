import DMSCore
import Testing

@testable import DMSVision

/// The pixel steps of `ImagePreprocessing`: crop, channel order, normalization and layout; and
/// the taps of the linear and area resizes.
@Suite("preprocessing pixels")
struct PreprocessingPixelsTests {
    /// 3 × 2 pixels, RGB, each channel value telling its position: 10 × pixel + channel.
    private let image = PixelImage(width: 3, height: 2, channels: 3, pixels: (0..<6).flatMap { pixel in (0..<3).map { UInt8(10 * pixel + $0) } })

    @Test func cropsTheCentreRoundingTheCornerDown() throws {
        let steps = ImagePreprocessing(color: .rgb, resize: .none, centerCrop: .init(height: 1, width: 2))
        let cropped = try steps.shaped(image, to: .init(height: 1, width: 2))
        // (2 − 1) / 2 = 0 rows and (3 − 2) / 2 = 0 columns off the top left.
        #expect(cropped.pixels == [0, 1, 2, 10, 11, 12])
        #expect { try ImagePreprocessing(color: .rgb, resize: .none, centerCrop: .init(height: 3, width: 3)).shaped(image, to: .init(height: 3, width: 3)) } throws: {
            ($0 as? DMSError)?.code == .invalidInput
        }
    }

    @Test func writesBGRNormalizedNHWC() {
        let steps = ImagePreprocessing(color: .bgr, resize: .none, scale: 0.5, mean: [1, 2, 3], std: [2, 4, 8], layout: .nhwc)
        var buffer = [Float](repeating: .nan, count: 18)
        buffer.withUnsafeMutableBufferPointer { steps.write(image, into: $0) }
        // (value × 0.5 − mean) / std, channels B, G, R of the first and the last pixel.
        let first: [Float] = [0, -0.375, -0.375]
        let last: [Float] = [12.5, 5.875, 2.75]
        #expect(Array(buffer[0..<3]) == first)
        #expect(Array(buffer[15..<18]) == last)
    }

    @Test func writesNormalizedNCHWPlanes() {
        let steps = ImagePreprocessing(color: .rgb, resize: .none, mean: [0, 0, 10], std: [1, 1, 2])
        var buffer = [Float](repeating: .nan, count: 18)
        buffer.withUnsafeMutableBufferPointer { steps.write(image, into: $0) }
        #expect(Array(buffer[0..<6]) == [0, 10, 20, 30, 40, 50])
        #expect(Array(buffer[12..<18]) == [-4, 1, 6, 11, 16, 21])
    }

    @Test func areaTapsAverageWhatEachOutputCovers() {
        let halving = ResampleTaps.area(sourceLength: 4, destinationLength: 2)
        #expect(halving.indices == [[0, 1], [2, 3]] && halving.weights == [[0.5, 0.5], [0.5, 0.5]])
        let thirds = ResampleTaps.area(sourceLength: 2, destinationLength: 3)
        #expect(thirds.indices.count == 3)
        let three = ResampleTaps.area(sourceLength: 3, destinationLength: 2)
        #expect(three.indices == [[0, 1], [1, 2]])
        #expect(three.weights.allSatisfy { abs($0.reduce(0, +) - 1) < 1e-6 })
    }

    @Test func linearTapsClampAtTheEdges() {
        let doubling = ResampleTaps.linear(sourceLength: 2, destinationLength: 4)
        // Output 0 sits at source −0.25: the edge pixel alone.
        #expect(doubling.indices[0] == [0, 1] && doubling.weights[0] == [1, 0])
        #expect(doubling.weights[1] == [0.75, 0.25])
        #expect(doubling.indices[3] == [1, 1] && doubling.weights[3] == [1, 0])
    }
}
