/// The four source indices and 11-bit fixed-point weights that OpenCV 3.4's INTER_CUBIC uses along one axis.
///
/// For destination index `i`, tap `k` (0...3) reads source index `indices[4·i + k]` with weight
/// `weights[4·i + k]`. Indices are already clamped to the source (replicated border); weights are used as
/// rounded, so the four of them may sum to 2047, 2048 or 2049.
struct CubicTaps {
    /// Fixed-point scale of the weights (2^11).
    static let weightScale: Float = 2048

    private(set) var indices: [Int]
    private(set) var weights: [Int32]

    init(sourceLength: Int, destinationLength: Int) {
        let scale = 1 / (Double(destinationLength) / Double(sourceLength))
        indices = []
        weights = []
        indices.reserveCapacity(4 * destinationLength)
        weights.reserveCapacity(4 * destinationLength)
        for position in 0..<destinationLength {
            let coordinate = Float((Double(position) + 0.5) * scale - 0.5)
            let base = coordinate.rounded(.down)
            let fraction = coordinate - base
            let first = Int(base) - 1
            let coefficients = Self.coefficients(fraction)
            for tap in 0..<4 {
                indices.append(min(max(first + tap, 0), sourceLength - 1))
                weights.append(Int32((coefficients[tap] * Self.weightScale).rounded(.toNearestOrEven)))
            }
        }
    }

    /// Keys' cubic kernel with A = −0.75 at offsets 1 + u, u, 1 − u, 2 − u, in float32, one rounding per
    /// operation in OpenCV's order; the last weight is 1 minus the other three.
    private static func coefficients(_ u: Float) -> SIMD4<Float> {
        let a: Float = -0.75
        let p = u + 1
        var c0 = a * p
        c0 = c0 - 5 * a
        c0 = c0 * p
        c0 = c0 + 8 * a
        c0 = c0 * p
        c0 = c0 - 4 * a
        let c1 = nearCoefficient(u)
        let c2 = nearCoefficient(1 - u)
        let c3 = 1 - c0 - c1 - c2
        return SIMD4(c0, c1, c2, c3)
    }

    /// `((A + 2)·x − (A + 3))·x·x + 1` with A = −0.75, evaluated left to right in float32.
    private static func nearCoefficient(_ x: Float) -> Float {
        var c = 1.25 * x
        c = c - 2.25
        c = c * x
        c = c * x
        return c + 1
    }
}
