import DMSServices
import Testing

@Suite("Classification")
struct ClassificationTests {
    @Test func softmaxSumsToOne() {
        let probabilities = Classification.softmax([1, 2, 3, -4, 0.5])
        #expect(abs(probabilities.reduce(0, +) - 1) < 1e-6)
        #expect(probabilities.allSatisfy { $0 > 0 && $0 < 1 })
        #expect(probabilities[2] > probabilities[1] && probabilities[1] > probabilities[0])
    }

    @Test func softmaxIsStableForLargeLogits() {
        let probabilities = Classification.softmax([1_000, 1_001, -1_000])
        #expect(probabilities.allSatisfy { $0.isFinite })
        #expect(abs(probabilities[0] - 0.268_941_4) < 1e-6)
        #expect(abs(probabilities[1] - 0.731_058_6) < 1e-6)
        #expect(probabilities[2] == 0)
    }

    @Test func softmaxOfNothingIsEmpty() {
        #expect(Classification.softmax([]).isEmpty)
    }

    @Test func topKIsDescendingWithTiesByLowerIndex() {
        let top = Classification.topK([0.1, 0.5, 0.2, 0.5, .nan, 0.9, 0.2], k: 5)
        #expect(top.map(\.index) == [5, 1, 3, 2, 6])
        #expect(top.map(\.value) == [0.9, 0.5, 0.5, 0.2, 0.2])
    }

    @Test func topKClampsK() {
        let values: [Float] = [3, .nan, 1]
        #expect(Classification.topK(values, k: 0).isEmpty)
        #expect(Classification.topK(values, k: -2).isEmpty)
        #expect(Classification.topK(values, k: 10).map(\.index) == [0, 2, 1])
        #expect(Classification.topK([], k: 3).isEmpty)
    }
}
