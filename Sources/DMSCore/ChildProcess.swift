import Foundation

/// Runs a program to its end without holding a thread of Swift's cooperative pool: the wait and
/// the reading of its output happen on a thread of their own (a pipe that fills up would
/// otherwise stall the program).
public enum ChildProcess {
    /// Runs `program` with `arguments`; returns its exit status and its standard output and
    /// error together. An `.internalError` when it cannot be started.
    public static func run(_ program: String, _ arguments: [String]) async throws(DMSError) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Result<(Int32, String), DMSError>, Never>) in
            let collected = Thread {
                let output = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: .success((process.terminationStatus, String(decoding: output, as: UTF8.self))))
            }
            do {
                try process.run()
                collected.start()
            } catch {
                continuation.resume(returning: .failure(DMSError(.internalError, "cannot run \(program): \(error)", cause: error)))
            }
        }
        return try outcome.get()
    }
}
