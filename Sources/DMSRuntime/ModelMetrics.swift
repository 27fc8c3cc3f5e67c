import CoreMetrics
import DMSCore
import Synchronization

/// One model's metrics, through swift-metrics (the server bootstraps a Prometheus backend);
/// every one carries the label `model`, and `dms_requests_total` also `outcome`, so the label
/// sets are bounded by the models served. Names follow Prometheus conventions: `dms_` prefix,
/// base units (seconds), `_total` for counters.
///
/// Measured where the work happens, as it happens: requests by outcome and end-to-end latency
/// (by the surface that answered), pre- and post-processing (`ServedModel`), time queued, engine
/// time and batch sizes (`ModelScheduler`'s workers). What the scheduler already counts (queue
/// depth, requests running, refusals, expiries, cancellations) and the model's state are
/// brought up to date by `collect` just before each scrape, so they cost the request path
/// nothing.
public final class ModelMetrics: Sendable {
    /// How a prediction request ended: the `outcome` label of `dms_requests_total`.
    public enum Outcome: String, Sendable, CaseIterable {
        case success
        case invalidInput = "invalid_input"
        case tooLarge = "too_large"
        /// The model was not ready, was shutting down, or the client went away.
        case unavailable
        /// The queue was full.
        case rejected
        /// The request's deadline passed.
        case expired
        case unsupported
        /// The engine or the server failed.
        case error

        public init(_ error: DMSError) {
            self =
                switch error.code {
                case .invalidInput, .requestTimeout: .invalidInput
                case .payloadTooLarge: .tooLarge
                case .unavailable, .notFound: .unavailable
                case .resourceExhausted: .rejected
                case .deadlineExceeded: .expired
                case .unsupported: .unsupported
                default: .error
                }
        }
    }

    /// The states a model's `dms_model_state` gauge has a series for.
    static let states = ["loading", "ready", "failed", "unloading"]

    /// Histogram buckets for durations: half a millisecond to half a minute.
    public static let durationBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        .seconds(5), .seconds(10), .seconds(30),
    ]
    /// Histogram buckets for batch sizes (rows per engine call).
    public static let batchSizeBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096]

    /// The names of the duration histograms and of the batch-size histogram, for a backend
    /// that sets buckets per metric.
    public static let durationMetricNames = [
        "dms_request_duration_seconds", "dms_queue_duration_seconds", "dms_inference_duration_seconds",
        "dms_preprocess_duration_seconds", "dms_postprocess_duration_seconds",
    ]
    public static let batchSizeMetricName = "dms_batch_size"

    private let requests: [Outcome: Counter]
    private let requestDuration: Timer
    let preprocessDuration: Timer
    let postprocessDuration: Timer
    let queueDuration: Timer
    let inferenceDuration: Timer
    let batchSize: Recorder
    private let queueDepth: Meter
    private let inFlight: Meter
    private let rejected: Counter
    private let expired: Counter
    private let cancelled: Counter
    private let loadDuration: Meter
    private let state: [String: Meter]
    /// The scheduler's counters as last reported, so each scrape adds what happened since.
    private let reported = Mutex(ModelScheduler.Statistics())

    public init(model: String, factory: any MetricsFactory) {
        let label = [("model", model)]
        requests = Dictionary(uniqueKeysWithValues: Outcome.allCases.map {
            ($0, Counter(label: "dms_requests_total", dimensions: label + [("outcome", $0.rawValue)], factory: factory))
        })
        requestDuration = Timer(label: "dms_request_duration_seconds", dimensions: label, factory: factory)
        preprocessDuration = Timer(label: "dms_preprocess_duration_seconds", dimensions: label, factory: factory)
        postprocessDuration = Timer(label: "dms_postprocess_duration_seconds", dimensions: label, factory: factory)
        queueDuration = Timer(label: "dms_queue_duration_seconds", dimensions: label, factory: factory)
        inferenceDuration = Timer(label: "dms_inference_duration_seconds", dimensions: label, factory: factory)
        batchSize = Recorder(label: Self.batchSizeMetricName, dimensions: label, aggregate: true, factory: factory)
        queueDepth = Meter(label: "dms_queue_depth", dimensions: label, factory: factory)
        inFlight = Meter(label: "dms_inflight_requests", dimensions: label, factory: factory)
        rejected = Counter(label: "dms_requests_rejected_total", dimensions: label, factory: factory)
        expired = Counter(label: "dms_requests_expired_total", dimensions: label, factory: factory)
        cancelled = Counter(label: "dms_requests_cancelled_total", dimensions: label, factory: factory)
        loadDuration = Meter(label: "dms_model_load_duration_seconds", dimensions: label, factory: factory)
        state = Dictionary(uniqueKeysWithValues: Self.states.map {
            ($0, Meter(label: "dms_model_state", dimensions: label + [("state", $0)], factory: factory))
        })
    }

    /// Counts one prediction request and its end-to-end latency.
    public func recordRequest(_ outcome: Outcome, duration: Duration) {
        requests[outcome]?.increment()
        requestDuration.record(duration)
    }

    /// Takes the model's series out of the backend (the model was unregistered, or its
    /// registration failed); a model registered again under the name starts from zero.
    func destroy() {
        for counter in requests.values { counter.destroy() }
        for timer in [requestDuration, preprocessDuration, postprocessDuration, queueDuration, inferenceDuration] { timer.destroy() }
        batchSize.destroy()
        for meter in [queueDepth, inFlight, loadDuration] + Array(state.values) { meter.destroy() }
        for counter in [rejected, expired, cancelled] { counter.destroy() }
    }

    func recordLoad(_ duration: Duration) {
        loadDuration.set(duration.seconds)
    }

    /// Brings the gauges and the scheduler's counters up to date; called before each scrape.
    public func collect(state current: ModelState, statistics: ModelScheduler.Statistics?) {
        let name =
            switch current {
            case .loading: "loading"
            case .ready: "ready"
            case .failed: "failed"
            case .unloading: "unloading"
            }
        for (state, meter) in state { meter.set(state == name ? 1 : 0) }
        guard let statistics else { return }
        queueDepth.set(statistics.queued)
        inFlight.set(statistics.running)
        // Counters only grow; a scrape that read older statistics than one before it adds nothing.
        let (newRejected, newExpired, newCancelled) = reported.withLock { reported in
            defer {
                reported.rejected = max(reported.rejected, statistics.rejected)
                reported.expired = max(reported.expired, statistics.expired)
                reported.cancelled = max(reported.cancelled, statistics.cancelled)
            }
            return (
                max(0, statistics.rejected - reported.rejected), max(0, statistics.expired - reported.expired),
                max(0, statistics.cancelled - reported.cancelled)
            )
        }
        rejected.increment(by: newRejected)
        expired.increment(by: newExpired)
        cancelled.increment(by: newCancelled)
    }
}

extension Timer {
    /// Records a `Duration`, to the nanosecond.
    func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
