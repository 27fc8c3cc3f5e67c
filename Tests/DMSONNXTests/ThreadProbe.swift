import Foundation
import Synchronization

/// Counts the threads ONNX Runtime starts, among whatever else runs in the test process.
///
/// Linux threads inherit the name of the thread that starts them, and ONNX Runtime's pool
/// threads keep it; so `run` gives a new thread a name of its own, creates the sessions there,
/// and counts the process's threads that carry that name besides the probe itself.
enum ThreadProbe {
    private final class Outcome: Sendable {
        let value = Mutex<Result<[Int], any Error>?>(nil)
    }

    /// Runs `body` on the probe thread; `body` gets a function that counts the pool threads.
    static func run(_ body: @escaping @Sendable (_ poolThreads: () throws -> Int) throws -> [Int]) throws -> [Int] {
        // Linux keeps 15 bytes of a thread name.
        let name = "ort-" + String(UInt64.random(in: 0..<(1 << 40)), radix: 16)
        let outcome = Outcome()
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            let result = Result {
                try name.write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
                return try body { try poolThreadCount(named: name) }
            }
            outcome.value.withLock { $0 = result }
            finished.signal()
        }
        thread.start()
        finished.wait()
        return try outcome.value.withLock { $0 }!.get()
    }

    private static func poolThreadCount(named name: String) throws -> Int {
        let named = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").filter { task in
            let comm = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)
            return comm?.trimmingCharacters(in: .whitespacesAndNewlines) == name
        }
        return named.count - 1
    }
}
