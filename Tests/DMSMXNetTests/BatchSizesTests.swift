import Testing

@testable import DMSMXNet

@Suite("MXNet batch sizes prepared at load")
struct BatchSizesTests {
    @Test func powersOfTwoBelowTheLargestBatchAndTheLargestItself() {
        #expect(MXNetPredictor.batchSizesToPrepare(upTo: 1) == [1])
        #expect(MXNetPredictor.batchSizesToPrepare(upTo: 2) == [1, 2])
        #expect(MXNetPredictor.batchSizesToPrepare(upTo: 8) == [1, 2, 4, 8])
        #expect(MXNetPredictor.batchSizesToPrepare(upTo: 6) == [1, 2, 4, 6])
    }
}
