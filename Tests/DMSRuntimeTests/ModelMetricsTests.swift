import DMSCore
import MetricsTestKit
import Testing

@testable import DMSRuntime

/// What `ModelMetrics` reports through swift-metrics, read back with swift-metrics' test kit.
@Suite("model metrics")
struct ModelMetricsTests {
    @Test func outcomesFollowTheErrorCodes() {
        #expect(ModelMetrics.Outcome(DMSError(.invalidInput, "")) == .invalidInput)
        #expect(ModelMetrics.Outcome(DMSError(.payloadTooLarge, "")) == .tooLarge)
        #expect(ModelMetrics.Outcome(DMSError(.resourceExhausted, "")) == .rejected)
        #expect(ModelMetrics.Outcome(DMSError(.deadlineExceeded, "")) == .expired)
        #expect(ModelMetrics.Outcome(DMSError(.unavailable, "")) == .unavailable)
        #expect(ModelMetrics.Outcome(DMSError(.engineFailure, "")) == .error)
    }

    @Test func requestsAreCountedByOutcomeWithTheirLatency() throws {
        let kit = TestMetrics()
        let metrics = ModelMetrics(model: "m", factory: kit)
        metrics.recordRequest(.success, duration: .milliseconds(12))
        metrics.recordRequest(.success, duration: .milliseconds(3))
        metrics.recordRequest(.invalidInput, duration: .microseconds(500))
        let success = try kit.expectCounter("dms_requests_total", [("model", "m"), ("outcome", "success")])
        #expect(success.totalValue == 2)
        #expect(try kit.expectCounter("dms_requests_total", [("model", "m"), ("outcome", "invalid_input")]).totalValue == 1)
        let latency = try kit.expectTimer("dms_request_duration_seconds", [("model", "m")])
        #expect(latency.values == [12_000_000, 3_000_000, 500_000])
    }

    /// The scheduler's counters are added as they grew since the last scrape, once; a scrape
    /// that read older statistics than the one before it adds nothing.
    @Test func schedulerCountersAreAddedOnceAcrossScrapes() throws {
        let kit = TestMetrics()
        let metrics = ModelMetrics(model: "m", factory: kit)
        var statistics = ModelScheduler.Statistics()
        statistics.expired = 2
        statistics.queued = 4
        metrics.collect(state: .ready, statistics: statistics)
        metrics.collect(state: .ready, statistics: statistics)
        var older = statistics
        older.expired = 1
        metrics.collect(state: .ready, statistics: older)
        statistics.expired = 5
        metrics.collect(state: .ready, statistics: statistics)
        #expect(try kit.expectCounter("dms_requests_expired_total", [("model", "m")]).totalValue == 5)
        #expect(try kit.expectMeter("dms_queue_depth", [("model", "m")]).lastValue == 4)
        metrics.collect(state: .failed(reason: "x"), statistics: nil)
        #expect(try kit.expectMeter("dms_model_state", [("model", "m"), ("state", "failed")]).lastValue == 1)
        #expect(try kit.expectMeter("dms_model_state", [("model", "m"), ("state", "ready")]).lastValue == 0)
    }
}
