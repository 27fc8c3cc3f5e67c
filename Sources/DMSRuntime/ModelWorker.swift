import DMSCore
import Foundation
import Synchronization

/// Runs one predictor on a thread of its own, one request at a time, in arrival order.
///
/// Engine calls block for milliseconds to seconds, so they never run on Swift's cooperative
/// pool or on an event loop: callers await `predict`, and the worker thread resumes them.
/// The queue is bounded: a request that finds `maxQueuedRequests` others waiting is refused at
/// once (`.resourceExhausted`). A request whose deadline has passed when its turn comes is
/// answered `.deadlineExceeded` without an engine call.
public final class ModelWorker: Sendable {
    private struct Job {
        var inputs: [Tensor]
        var deadline: ContinuousClock.Instant?
        var continuation: CheckedContinuation<[Tensor], any Error>
    }

    private struct State {
        var jobs: [Job] = []
        var isStopping = false
        var predictor: (any ModelPredictor)?
        var statistics = Statistics()
    }

    /// Counters of what the worker did, for tests and diagnostics.
    public struct Statistics: Sendable, Equatable {
        /// Calls made to the engine.
        public var engineCalls = 0
        /// Requests refused because the queue was full.
        public var rejected = 0
        /// Requests answered without an engine call because their deadline had passed.
        public var expired = 0
    }

    private let name: String
    private let maxQueuedRequests: Int
    private let state: Mutex<State>
    /// Signalled when a job arrives or the worker should stop.
    private let wakeUp = DispatchSemaphore(value: 0)
    /// Signalled once when the thread has finished and released the predictor.
    private let finished = DispatchSemaphore(value: 0)

    /// Starts the worker thread for `predictor`; the worker owns it from now on.
    public init(name: String, predictor: any ModelPredictor, maxQueuedRequests: Int = 100) {
        self.name = name
        self.maxQueuedRequests = maxQueuedRequests
        self.state = Mutex(State(predictor: predictor))
        let thread = Thread { [self] in self.runLoop() }
        thread.name = "dms-worker-\(name)"
        thread.start()
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Requests waiting for their turn (not counting the one running).
    var queuedCount: Int { state.withLock { $0.jobs.count } }

    /// Whether `shutdown` has begun.
    var isStopping: Bool { state.withLock { $0.isStopping } }

    /// Runs the predictor on `inputs` (already validated against the signature), unless the
    /// queue is full or `deadline` passes first.
    public func predict(_ inputs: [Tensor], deadline: ContinuousClock.Instant? = nil) async throws(DMSError) -> [Tensor] {
        do {
            return try await withCheckedThrowingContinuation { continuation in
                let refusal = state.withLock { state -> DMSError? in
                    if state.isStopping {
                        return DMSError(.unavailable, "model '\(name)' is shutting down")
                    }
                    guard state.jobs.count < maxQueuedRequests else {
                        state.statistics.rejected += 1
                        return DMSError(.resourceExhausted, "model '\(name)' has \(state.jobs.count) requests waiting, its limit; try again shortly")
                    }
                    state.jobs.append(Job(inputs: inputs, deadline: deadline, continuation: continuation))
                    return nil
                }
                if let refusal {
                    continuation.resume(throwing: refusal)
                } else {
                    wakeUp.signal()
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
                if let deadline = job.deadline, deadline < .now {
                    state.withLock { $0.statistics.expired += 1 }
                    job.continuation.resume(throwing: DMSError(.deadlineExceeded, "the request's deadline passed while it waited for model '\(name)'"))
                    continue
                }
                state.withLock { $0.statistics.engineCalls += 1 }
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
