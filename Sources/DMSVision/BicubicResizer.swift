/// Bicubic resizing that reproduces MXNet 1.9.1's `mx.img.imresize(img, w, h, 2)` byte for byte, i.e.
/// OpenCV 3.4.2's `cv::resize(..., INTER_CUBIC)` on 8-bit images.
///
/// The algorithm: separable Keys cubic (A = −0.75) with 11-bit integer weights and a replicated border;
/// an exact integer horizontal pass; then a vertical pass that, along each flattened output row, computes
/// the first multiple of 8 values in float32 (as OpenCV's SSE2 loop does) and the remaining values in
/// integers with a `+2^21 >> 22` rounding. Same-size requests return a copy.
public enum BicubicResizer {
    /// Resizes `image` to `width × height` pixels, keeping its channel count.
    public static func resize(_ image: PixelImage, width: Int, height: Int) -> PixelImage {
        precondition(width > 0 && height > 0, "target size must be positive")
        precondition(image.width > 0 && image.height > 0 && (image.channels == 1 || image.channels == 3)
                     && image.pixels.count == image.width * image.height * image.channels,
                     "image fields are inconsistent")
        if width == image.width && height == image.height {
            return image
        }
        let channels = image.channels
        let rowLength = width * channels
        let columns = CubicTaps(sourceLength: image.width, destinationLength: width)
        let rows = CubicTaps(sourceLength: image.height, destinationLength: height)
        let columnOffsets = columns.indices.map { $0 * channels }

        // Horizontal results for up to four source rows. The taps of one output row are consecutive
        // source rows, so `row & 3` never maps two of them to the same slot.
        var horizontal = [Int32](repeating: 0, count: 4 * rowLength)
        var slotRow = [Int](repeating: -1, count: 4)
        let pixels = [UInt8](unsafeUninitializedCapacity: height * rowLength) { output, initialized in
            image.pixels.withUnsafeBufferPointer { source in
                horizontal.withUnsafeMutableBufferPointer { buffer in
                    let base = buffer.baseAddress!
                    for y in 0..<height {
                        let taps = 4 * y
                        for row in rows.indices[taps..<(taps + 4)] where slotRow[row & 3] != row {
                            filterRow(source.baseAddress! + row * image.width * channels,
                                      into: base + (row & 3) * rowLength,
                                      offsets: columnOffsets, weights: columns.weights, channels: channels)
                            slotRow[row & 3] = row
                        }
                        func slot(_ tap: Int) -> UnsafePointer<Int32> {
                            UnsafePointer(base + (rows.indices[taps + tap] & 3) * rowLength)
                        }
                        combineRows((slot(0), slot(1), slot(2), slot(3)),
                                    weights: (rows.weights[taps], rows.weights[taps + 1],
                                              rows.weights[taps + 2], rows.weights[taps + 3]),
                                    into: output.baseAddress! + y * rowLength, count: rowLength)
                    }
                }
            }
            initialized = height * rowLength
        }
        return PixelImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// Horizontal pass for one source row: exact integer sums of four weighted taps per output value.
    private static func filterRow(_ source: UnsafePointer<UInt8>, into destination: UnsafeMutablePointer<Int32>,
                                  offsets: [Int], weights: [Int32], channels: Int) {
        offsets.withUnsafeBufferPointer { offsets in
            weights.withUnsafeBufferPointer { weights in
                let width = offsets.count / 4
                var out = destination
                for x in 0..<width {
                    let o0 = offsets[4 * x], o1 = offsets[4 * x + 1], o2 = offsets[4 * x + 2], o3 = offsets[4 * x + 3]
                    let w0 = weights[4 * x], w1 = weights[4 * x + 1], w2 = weights[4 * x + 2], w3 = weights[4 * x + 3]
                    for channel in 0..<channels {
                        let sum0 = Int32(source[o0 + channel]) * w0 + Int32(source[o1 + channel]) * w1
                        let sum1 = Int32(source[o2 + channel]) * w2 + Int32(source[o3 + channel]) * w3
                        out[channel] = sum0 + sum1
                    }
                    out += channels
                }
            }
        }
    }

    /// Vertical pass for one output row of `count` interleaved values.
    private static func combineRows(
        _ rows: (UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Int32>),
        weights: (Int32, Int32, Int32, Int32),
        into output: UnsafeMutablePointer<UInt8>, count: Int
    ) {
        let (r0, r1, r2, r3) = rows
        let (v0, v1, v2, v3) = weights

        // OpenCV's SSE2 loop: blocks of 8 values in float32, weights scaled by 2^-22, summed in tap order.
        let floatCount = count / 8 * 8
        let scale: Float = 1.0 / 4_194_304
        let b0 = Float(v0) * scale, b1 = Float(v1) * scale, b2 = Float(v2) * scale, b3 = Float(v3) * scale
        for i in 0..<floatCount {
            var sum = Float(r0[i]) * b0
            sum = sum + Float(r1[i]) * b1
            sum = sum + Float(r2[i]) * b2
            sum = sum + Float(r3[i]) * b3
            output[i] = UInt8(min(max(sum.rounded(.toNearestOrEven), 0), 255))
        }

        // OpenCV's scalar tail: integer sum rounded by adding 2^21 and shifting right by 22.
        for i in floatCount..<count {
            let sum = Int64(r0[i]) * Int64(v0) + Int64(r1[i]) * Int64(v1) + Int64(r2[i]) * Int64(v2) + Int64(r3[i]) * Int64(v3)
            output[i] = UInt8(min(max((sum + (1 << 21)) >> 22, 0), 255))
        }
    }
}
