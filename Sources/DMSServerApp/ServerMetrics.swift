import CoreMetrics
import DMSRuntime
import Foundation
import Prometheus
import Synchronization

/// The metrics `GET /metrics` serves: every model's (`ModelMetrics`) and the process's, in
/// Prometheus' text format, through swift-metrics with swift-prometheus as its backend.
///
/// The backend is this server's own registry, not swift-metrics' process-wide bootstrap, so
/// servers started in one process (the tests) do not share counters.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    private let process: ProcessMetrics

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = ModelMetrics.durationBuckets
        factory.valueHistogramBuckets = [ModelMetrics.batchSizeMetricName: ModelMetrics.batchSizeBuckets]
        self.factory = factory
        self.process = ProcessMetrics(factory: factory)
    }

    /// The exposition text, with the values that are read rather than counted brought up to date
    /// first: each model's state and scheduler (models being registered show as loading), the
    /// process's memory, CPU time and files.
    func exposition(of models: ModelRegistry) -> [UInt8] {
        for (model, _) in models.modelsIncludingPending {
            model.metrics.collect(state: model.state, statistics: model.readyModel?.scheduler.statistics)
        }
        process.collect()
        return registry.emitToBuffer()
    }
}

/// The process metrics Prometheus' client libraries export under the same names: resident and
/// virtual memory, CPU seconds, open and maximum file descriptors, start time. Read from
/// `/proc/self` (Linux) at each scrape.
final class ProcessMetrics: Sendable {
    private let residentMemory: Meter
    private let virtualMemory: Meter
    private let cpuSeconds: FloatingPointCounter
    private let openFileDescriptors: Meter
    private let maxFileDescriptors: Meter
    private let startTime: Meter
    /// CPU seconds already added to the counter.
    private let reportedCPU = Mutex(0.0)

    init(factory: any MetricsFactory) {
        residentMemory = Meter(label: "process_resident_memory_bytes", factory: factory)
        virtualMemory = Meter(label: "process_virtual_memory_bytes", factory: factory)
        cpuSeconds = FloatingPointCounter(label: "process_cpu_seconds_total", factory: factory)
        openFileDescriptors = Meter(label: "process_open_fds", factory: factory)
        maxFileDescriptors = Meter(label: "process_max_fds", factory: factory)
        startTime = Meter(label: "process_start_time_seconds", factory: factory)
        startTime.set(Self.startTime ?? Date().timeIntervalSince1970)
    }

    func collect() {
        let memory = ProcessMemory.statusKilobytes(["VmRSS", "VmSize"])
        residentMemory.set((memory["VmRSS"] ?? 0) * 1024)
        virtualMemory.set((memory["VmSize"] ?? 0) * 1024)
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            openFileDescriptors.set(entries.count)
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            maxFileDescriptors.set(Double(limit.rlim_cur))
        }
        if let total = Self.cpuSeconds() {
            let added = reportedCPU.withLock { reported in
                defer { reported = max(reported, total) }
                return max(0, total - reported)
            }
            cpuSeconds.increment(by: added)
        }
    }

    /// `/proc/self/stat`'s fields after the command name (which may hold spaces), numbered as
    /// in proc(5) from field 3.
    private static func statFields() -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// User and system CPU time so far (proc(5) fields 14 and 15, in clock ticks).
    private static func cpuSeconds() -> Double? {
        guard let fields = statFields(), fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// When the process started, in seconds since 1970: boot time (`btime` of `/proc/stat`)
    /// plus the start in clock ticks after boot (proc(5) field 22).
    private static var startTime: Double? {
        guard let fields = statFields(), fields.count > 19, let ticks = Double(fields[19]),
            let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let boot = Double(line.dropFirst(6))
        else { return nil }
        return boot + ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
