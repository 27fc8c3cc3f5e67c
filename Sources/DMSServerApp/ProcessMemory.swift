import CMallocTuning
import Foundation

/// The process's memory: its resident size, from `/proc/self/status` (Linux), and the allocator
/// setting the server and the floor both run with.
public enum ProcessMemory {
    /// Allocations of at least this many bytes get pages of their own from the kernel, which go
    /// back to it when freed.
    public static let mmapThreshold: Int32 = 1 << 20

    /// Fixes glibc's mmap threshold at `mmapThreshold` (unless `MALLOC_MMAP_THRESHOLD_` is set).
    ///
    /// By default glibc raises the threshold to the size of each large block freed (up to
    /// 32 MiB), after which blocks that size come from the heap, whose free space it rarely
    /// returns. An engine's transient load buffers and each batch's tensors then stay resident:
    /// measured with ResNet-18 (wrk at concurrency 2, 4, 16, 64 against one server), MXNet's
    /// server grew from 467 to 579 MiB by default and from 407 to 434 MiB with a fixed 1 MiB
    /// threshold; the ONNX Runtime floor loads at 152 MiB instead of 254.
    public static func keepLargeAllocationsOffTheHeap() {
        guard ProcessInfo.processInfo.environment["MALLOC_MMAP_THRESHOLD_"] == nil else { return }
        _ = dms_set_mmap_threshold(mmapThreshold)
    }

    /// Resident memory now, in MiB (`VmRSS`).
    static var residentMiB: Double { field("VmRSS") }
    /// The most resident memory so far, in MiB (`VmHWM`).
    static var peakResidentMiB: Double { field("VmHWM") }

    private static func field(_ name: String) -> Double {
        (statusKilobytes([name])[name] ?? 0) / 1024
    }

    /// Size fields of `/proc/self/status` (`VmRSS`, `VmSize`, …) in kB, read in one go; a
    /// field that is absent is left out.
    static func statusKilobytes(_ names: Set<String>) -> [String: Double] {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return [:] }
        var fields: [String: Double] = [:]
        for line in status.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":"), names.contains(String(line[..<colon])),
                let kilobytes = Double(line[line.index(after: colon)...].split(whereSeparator: \.isWhitespace).first ?? "")
            else { continue }
            fields[String(line[..<colon])] = kilobytes
        }
        return fields
    }
}
