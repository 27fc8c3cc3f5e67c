import Foundation

/// Post-processing helpers for classifier outputs.
public enum Classification {
    /// Softmax of `logits`, computed as `exp(x − max) / Σ exp(x − max)` so large logits cannot overflow.
    ///
    /// Returns an empty array for empty input.
    public static func softmax(_ logits: [Float]) -> [Float] {
        guard let maximum = logits.max() else { return [] }
        let exponentials = logits.map { exp($0 - maximum) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { $0 / total }
    }

    /// The `k` largest values with their indices, largest first; equal values keep the lower index first.
    ///
    /// NaN values rank below every number. `k` is clamped to `0...values.count`.
    public static func topK(_ values: [Float], k: Int) -> [(index: Int, value: Float)] {
        let count = min(max(k, 0), values.count)
        let ranked = values.indices.sorted { lhs, rhs in
            let left = values[lhs], right = values[rhs]
            if left.isNaN != right.isNaN {
                return right.isNaN
            }
            if left == right || left.isNaN {
                return lhs < rhs
            }
            return left > right
        }
        return ranked.prefix(count).map { (index: $0, value: values[$0]) }
    }
}
