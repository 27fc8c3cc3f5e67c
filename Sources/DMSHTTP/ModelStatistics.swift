import DMSCore
import DMSRuntime

/// The `GET /statistics` entry of one model: its state, its scheduling settings in effect and
/// its scheduler's counters (see `ModelScheduler.Statistics`).
///
/// ```json
/// {"state": "ready", "workers": 1, "max_batch_size": 8, "max_batch_delay_ms": 0, "queue_size": 100, "queue_wait_ms": 250,
///  "queued": 0, "running": 0, "requests": 12, "engine_calls": 5, "batch_sizes": {"1": 2, "2": 1, "4": 2},
///  "rejected": 0, "expired": 0, "cancelled": 0, "failed": 0}
/// ```
/// `batch_sizes` counts engine calls by their batch size (rows). The model's service may add
/// counters of its own (`ModelService.statistics`: a Python service adds `python_workers` and
/// `python_worker_restarts`). A model that is not ready has only its `state`.
enum ModelStatistics {
    static func document(for model: ServedModel) -> JSONValue {
        let state: String =
            switch model.state {
            case .ready: "ready"
            case .loading: "loading"
            case .failed: "failed"
            case .unloading: "unloading"
            }
        guard let ready = model.readyModel else {
            return .object([("state", .string(state))])
        }
        let scheduler = ready.scheduler
        let settings = scheduler.settings
        let counters = scheduler.statistics
        return .object([
            ("state", .string(state)),
            ("workers", .integer(Int64(settings.workers))),
            ("max_batch_size", .integer(Int64(settings.maxBatchSize))),
            ("max_batch_delay_ms", .integer(milliseconds(settings.maxBatchDelay))),
            ("queue_size", .integer(Int64(settings.queueSize))),
            ("queue_wait_ms", .integer(milliseconds(settings.admissionWait))),
            ("queued", .integer(Int64(counters.queued))),
            ("running", .integer(Int64(counters.running))),
            ("requests", .integer(Int64(counters.requests))),
            ("engine_calls", .integer(Int64(counters.engineCalls))),
            ("batch_sizes", .object(counters.batchSizes.sorted { $0.key < $1.key }.map { (String($0.key), .integer(Int64($0.value))) })),
            ("rejected", .integer(Int64(counters.rejected))),
            ("expired", .integer(Int64(counters.expired))),
            ("cancelled", .integer(Int64(counters.cancelled))),
            ("failed", .integer(Int64(counters.failed))),
        ] + ready.pipeline.service.statistics)
    }

    /// A setting's duration in whole milliseconds, as the command line took it.
    private static func milliseconds(_ duration: Duration) -> Int64 {
        let components = duration.components
        return components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
