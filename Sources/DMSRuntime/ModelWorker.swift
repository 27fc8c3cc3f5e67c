import DMSCore
import Foundation
import Synchronization

/// Runs one predictor on a thread of its own, one request at a time, in arrival order.
///
/// Engine calls block for milliseconds to seconds, so they never run on Swift's cooperative
/// pool or on an event loop: callers await `predict`, and the worker thread resumes them.
public final class ModelWorker: Sendable {
    private typealias Job = (inputs: [Tensor], continuation: CheckedContinuation<[Tensor], any Error>)

    private struct State {
        var jobs: [Job] = []
        var isStopping = false
        var predictor: (any ModelPredictor)?
    }

    private let name: String
    private let state: Mutex<State>
    /// Signalled when a job arrives or the worker should stop.
    private let wakeUp = DispatchSemaphore(value: 0)
    /// Signalled once when the thread has finished and released the predictor.
    private let finished = DispatchSemaphore(value: 0)

    /// Starts the worker thread for `predictor`; the worker owns it from now on.
    public init(name: String, predictor: any ModelPredictor) {
        self.name = name
        self.state = Mutex(State(predictor: predictor))
        let thread = Thread { [self] in self.runLoop() }
        thread.name = "dms-worker-\(name)"
        thread.start()
    }

    /// Runs the predictor on `inputs` (already validated against the signature).
    public func predict(_ inputs: [Tensor]) async throws(DMSError) -> [Tensor] {
        do {
            return try await withCheckedThrowingContinuation { continuation in
                let accepted = state.withLock { state -> Bool in
                    guard !state.isStopping else { return false }
                    state.jobs.append((inputs, continuation))
                    return true
                }
                if accepted {
                    wakeUp.signal()
                } else {
                    continuation.resume(throwing: DMSError(.unavailable, "model '\(name)' is shutting down"))
                }
            }
        } catch let error as DMSError {
            throw error
        } catch {
            throw DMSError(.internalError, "model '\(name)': \(error)", cause: error)
        }
    }

    /// Finishes the queued requests, then stops the thread and releases the predictor (and with
    /// it the engine's resources). Returns when that is done.
    public func shutdown() async {
        let alreadyStopping = state.withLock { state -> Bool in
            defer { state.isStopping = true }
            return state.isStopping
        }
        guard !alreadyStopping else { return }
        wakeUp.signal()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { [finished] in
                finished.wait()
                continuation.resume()
            }
        }
    }

    private func runLoop() {
        while true {
            wakeUp.wait()
            while let (job, predictor) = nextJob() {
                do {
                    job.continuation.resume(returning: try predictor.predict(job.inputs))
                } catch {
                    job.continuation.resume(throwing: error)
                }
            }
            let done = state.withLock { state -> Bool in
                guard state.isStopping, state.jobs.isEmpty else { return false }
                state.predictor = nil
                return true
            }
            if done {
                finished.signal()
                return
            }
        }
    }

    private func nextJob() -> (Job, any ModelPredictor)? {
        state.withLock { state in
            guard !state.jobs.isEmpty, let predictor = state.predictor else { return nil }
            return (state.jobs.removeFirst(), predictor)
        }
    }
}
