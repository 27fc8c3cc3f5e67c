/// The source pixels each output position of one axis reads, and their weights, for OpenCV's
/// `INTER_LINEAR` and `INTER_AREA` resampling of 8-bit images (3.4's rules for where each output
/// pixel falls; the weights in float, where OpenCV rounds linear weights to 11-bit fixed point,
/// so results may differ from OpenCV's by one level).
struct ResampleTaps: Equatable {
    /// For each output position, the source positions it reads.
    var indices: [[Int]]
    /// For each output position, one weight per source position; they sum to 1.
    var weights: [[Float]]

    /// `INTER_LINEAR`: output `d` sits at source `(d + 0.5) × scale − 0.5` and mixes its two
    /// neighbours; positions beyond the edges take the edge pixel.
    static func linear(sourceLength: Int, destinationLength: Int) -> ResampleTaps {
        let scale = Double(sourceLength) / Double(destinationLength)
        return twoTaps(sourceLength: sourceLength, destinationLength: destinationLength) { position in
            let exact = Float((Double(position) + 0.5) * scale - 0.5)
            let start = Int(exact.rounded(.down))
            return (start, exact - Float(start))
        }
    }

    /// `INTER_AREA`: each output pixel is the average of the source area it covers, each source
    /// pixel weighted by the part of it inside. Enlarging, OpenCV instead mixes two neighbours
    /// with weights that keep pixel edges sharp: those are used here too.
    static func area(sourceLength: Int, destinationLength: Int) -> ResampleTaps {
        let scale = Double(sourceLength) / Double(destinationLength)
        guard scale >= 1 else {
            let inverseScale = 1 / scale
            return twoTaps(sourceLength: sourceLength, destinationLength: destinationLength) { position in
                let start = Int((Double(position) * scale).rounded(.down))
                let fraction = Float(Double(position + 1) - Double(start + 1) * inverseScale)
                return (start, fraction <= 0 ? 0 : fraction - fraction.rounded(.down))
            }
        }
        var taps = ResampleTaps(indices: [], weights: [])
        for position in 0..<destinationLength {
            let low = Double(position) * scale, high = low + scale
            var indices: [Int] = []
            var weights: [Float] = []
            var source = Int(low.rounded(.down))
            while Double(source) < high, source < sourceLength {
                let covered = min(high, Double(source + 1)) - max(low, Double(source))
                if covered > 1e-9 {
                    indices.append(source)
                    weights.append(Float(covered / scale))
                }
                source += 1
            }
            taps.indices.append(indices)
            taps.weights.append(weights)
        }
        return taps
    }

    /// Two-neighbour taps from each position's first source pixel and the fraction towards the
    /// next, clamped at the edges as OpenCV does (the fraction dropped there).
    private static func twoTaps(sourceLength: Int, destinationLength: Int, place: (Int) -> (start: Int, fraction: Float)) -> ResampleTaps {
        var taps = ResampleTaps(indices: [], weights: [])
        for position in 0..<destinationLength {
            var (start, fraction) = place(position)
            if start < 0 { (start, fraction) = (0, 0) }
            if start >= sourceLength - 1 { (start, fraction) = (sourceLength - 1, 0) }
            taps.indices.append([start, min(start + 1, sourceLength - 1)])
            taps.weights.append([1 - fraction, fraction])
        }
        return taps
    }
}
