import DMSCore
import Foundation

/// Runs one model: its predictors on threads of their own (the workers), fed from one bounded
/// queue, with queued requests combined into batches.
///
/// Engine calls block for milliseconds to seconds, so they never run on Swift's cooperative pool
/// or an event loop: callers await `predict`, and a worker thread resumes them.
///
/// Scheduling rules:
/// - **Batching.** A worker that is idle when a request arrives runs it at once, alone, so
///   batching adds no latency at low load. Requests that arrive while every worker is busy
///   wait in the queue; a worker that finishes and finds requests waiting takes as many as fit
///   in `maxBatchSize` rows (requests whose inputs have the same shapes beyond the batch
///   dimension), and, if that is less than a full batch, first waits up to `maxBatchDelay`
///   (counted from the oldest request's arrival) for more. When the engine prefers some batch
///   sizes (`PredictorDescription.preferredBatchSizes`), a batch is cut back to the largest of
///   them that the requests fill, and the rest wait for the next call. Models whose signature
///   fixes the batch dimension run one request per engine call.
/// - **Back-pressure.** At most `queueSize` requests wait; another is refused at once
///   (`.resourceExhausted`, which the REST surface sends as 503 with `Retry-After`).
/// - **Deadlines.** A request's deadline is enforced when it passes: a request still queued is
///   answered `.deadlineExceeded` and never reaches the engine; one already in an engine call is
///   answered `.deadlineExceeded` too, and the call's result for it is dropped.
/// - **Abandoned requests.** A queued request whose client has gone (its `clientGone` check says
///   so when a worker looks at it) or whose task is cancelled is dropped without an engine call.
///
/// The mutable state is guarded by `condition`, which also wakes idle workers; hence
/// `@unchecked Sendable`.
public final class ModelScheduler: @unchecked Sendable {
    /// How a model is run; see the type's documentation for the rules.
    public struct Settings: Sendable, Equatable {
        /// Worker threads, each with a predictor of its own.
        public var workers: Int
        /// Most rows (the engine's batch dimension) one engine call may take; 1 turns batching off.
        public var maxBatchSize: Int
        /// How long a worker may wait for a batch to fill while the model is under load.
        public var maxBatchDelay: Duration
        /// Requests that may wait for a worker.
        public var queueSize: Int

        public init(workers: Int = 1, maxBatchSize: Int = 8, maxBatchDelay: Duration = .zero, queueSize: Int = 100) {
            self.workers = workers
            self.maxBatchSize = maxBatchSize
            self.maxBatchDelay = maxBatchDelay
            self.queueSize = queueSize
        }
    }

    /// What the scheduler is doing and has done, for `/statistics`, tests and benchmarks.
    public struct Statistics: Sendable, Equatable {
        /// Requests waiting for a worker now.
        public var queued = 0
        /// Requests in an engine call now.
        public var running = 0
        /// Requests answered from an engine call.
        public var requests = 0
        /// Engine calls made.
        public var engineCalls = 0
        /// For each batch size (rows per engine call), how many engine calls had it.
        public var batchSizes: [Int: Int] = [:]
        /// Requests refused because the queue was full.
        public var rejected = 0
        /// Requests answered `.deadlineExceeded`.
        public var expired = 0
        /// Requests dropped because their client went away.
        public var cancelled = 0
        /// Requests whose inputs or engine call failed.
        public var failed = 0

        public init() {}
    }

    /// One request on its way through the scheduler. Guarded by the scheduler's `condition`.
    private final class Job: @unchecked Sendable {
        let inputs: PreparedInputs
        let rowLayouts: [PreparedInputs.RowLayout]
        let deadline: ContinuousClock.Instant?
        let arrival = ContinuousClock.now
        let clientGone: (@Sendable () -> Bool)?
        /// Nil once the request has been answered: whoever answers first takes it.
        var continuation: CheckedContinuation<[Tensor], any Error>?

        init(inputs: PreparedInputs, deadline: ContinuousClock.Instant?, clientGone: (@Sendable () -> Bool)?) {
            self.inputs = inputs
            self.rowLayouts = inputs.rowLayouts
            self.deadline = deadline
            self.clientGone = clientGone
        }
    }

    /// Makes a worker's predictor, on the worker's own thread.
    public typealias PredictorFactory = @Sendable () throws(DMSError) -> any ModelPredictor

    public let name: String
    /// The settings in effect (batching is off for a model without a dynamic batch dimension).
    public let settings: Settings
    /// What the engine said about the model (from the first worker's predictor); set before
    /// `start` returns.
    public private(set) var predictorDescription = PredictorDescription(outputNames: [], outputActivation: .none)
    private var preferredBatchSizes: Set<Int>?

    private let condition = NSCondition()
    private var queue: [Job] = []
    private var isStopping = false
    private var counters = Statistics()
    private var runningWorkers: Int
    /// Signalled once, by the last worker to stop, after it released its predictor.
    private let stopped = DispatchSemaphore(value: 0)

    private init(name: String, settings: Settings, batchable: Bool) {
        self.name = name
        var effective = settings
        if !batchable { effective.maxBatchSize = 1 }
        self.settings = effective
        self.runningWorkers = settings.workers
    }

    /// Starts `settings.workers` worker threads, each of which makes its predictor with
    /// `makePredictor` on its own thread and then serves; returns once every worker is ready.
    /// Engines keep per-thread state (an OpenMP team, oneDNN's scratch memory: about 15 MiB per
    /// thread for ResNet-18 at batch 8, measured), so a predictor is loaded and warmed up on the
    /// thread that will run it. Workers load one after another: MXNet crashes when two threads
    /// create predictors at once. If a worker fails to make its predictor, the workers started
    /// are stopped and its error is thrown. `batchable` says whether the model's inputs and
    /// outputs all have a dynamic batch dimension.
    public static func start(
        name: String, settings: Settings, batchable: Bool, makePredictor: @escaping PredictorFactory
    ) async throws(DMSError) -> ModelScheduler {
        precondition(settings.workers > 0, "a model needs at least one worker")
        let scheduler = ModelScheduler(name: name, settings: settings, batchable: batchable)
        for index in 0..<settings.workers {
            let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Result<PredictorDescription, DMSError>, Never>) in
                let thread = Thread {
                    scheduler.runWorker(makePredictor: makePredictor) { continuation.resume(returning: $0) }
                }
                thread.name = "dms-\(name)-\(index)"
                thread.start()
            }
            switch outcome {
            case .success(let description) where index == 0:
                scheduler.condition.withLock {
                    scheduler.predictorDescription = description
                    scheduler.preferredBatchSizes = description.preferredBatchSizes.map(Set.init)
                }
            case .success:
                break
            case .failure(let error):
                // The workers never started will not report stopping: take them off the count.
                let neverStarted = settings.workers - index - 1
                let allStopped = scheduler.condition.withLock {
                    scheduler.runningWorkers -= neverStarted
                    return neverStarted > 0 && scheduler.runningWorkers == 0
                }
                if allStopped { scheduler.stopped.signal() }
                await scheduler.shutdown()
                throw error
            }
        }
        return scheduler
    }

    public var statistics: Statistics {
        condition.withLock {
            var snapshot = counters
            snapshot.queued = queue.count
            return snapshot
        }
    }

    /// Runs the model on `inputs` (already validated against the signature) and returns this
    /// request's rows of the outputs, unless the queue is full, `deadline` passes first, or the
    /// client goes away while the request waits.
    public func predict(
        _ inputs: PreparedInputs, deadline: ContinuousClock.Instant? = nil, clientGone: (@Sendable () -> Bool)? = nil
    ) async throws(DMSError) -> [Tensor] {
        let job = Job(inputs: inputs, deadline: deadline, clientGone: clientGone)
        let timer = deadline.map { deadline in
            Task { [weak self] in
                try? await Task.sleep(until: deadline, clock: .continuous)
                guard !Task.isCancelled else { return }
                self?.expire(job)
            }
        }
        defer { timer?.cancel() }
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    enqueue(job, continuation)
                }
            } onCancel: {
                cancel(job)
            }
        } catch let error as DMSError {
            throw error
        } catch {
            throw DMSError(.unavailable, "the request to model '\(name)' was cancelled", cause: error)
        }
    }

    /// Finishes the queued requests, then stops the workers and releases the predictors (and
    /// with them the engine's resources). Returns when that is done.
    public func shutdown() async {
        let alreadyStopping = condition.withLock {
            defer { isStopping = true }
            return isStopping
        }
        guard !alreadyStopping else { return }
        condition.broadcast()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { [stopped] in
                stopped.wait()
                continuation.resume()
            }
        }
    }

    // MARK: - Requests arriving and leaving

    private func enqueue(_ job: Job, _ continuation: CheckedContinuation<[Tensor], any Error>) {
        let refusal: DMSError? = condition.withLock {
            if isStopping {
                return DMSError(.unavailable, "model '\(name)' is shutting down")
            }
            if let deadline = job.deadline, deadline <= .now {
                counters.expired += 1
                return DMSError(.deadlineExceeded, "the request's deadline had passed when it reached model '\(name)'")
            }
            guard queue.count < settings.queueSize else {
                counters.rejected += 1
                return DMSError(.resourceExhausted, "model '\(name)' has \(queue.count) requests waiting, its limit; try again shortly")
            }
            job.continuation = continuation
            queue.append(job)
            return nil
        }
        if let refusal {
            continuation.resume(throwing: refusal)
        } else {
            condition.signal()
        }
    }

    /// Answers a request whose deadline passed, whether it waits or runs.
    private func expire(_ job: Job) {
        let continuation: CheckedContinuation<[Tensor], any Error>? = condition.withLock {
            guard let continuation = job.continuation else { return nil }
            job.continuation = nil
            counters.expired += 1
            queue.removeAll { $0 === job }
            return continuation
        }
        continuation?.resume(throwing: DMSError(.deadlineExceeded, "the request's deadline passed before model '\(name)' answered it"))
    }

    /// Drops a request whose task was cancelled, if it still waits; one already running finishes.
    private func cancel(_ job: Job) {
        let continuation: CheckedContinuation<[Tensor], any Error>? = condition.withLock {
            guard let index = queue.firstIndex(where: { $0 === job }), let continuation = job.continuation else { return nil }
            queue.remove(at: index)
            job.continuation = nil
            counters.cancelled += 1
            return continuation
        }
        continuation?.resume(throwing: CancellationError())
    }

    // MARK: - Workers

    /// A worker thread's life: make the predictor and report, serve until the scheduler stops,
    /// release the predictor, and signal when it was the last worker to stop.
    private func runWorker(makePredictor: PredictorFactory, reportStartup: (Result<PredictorDescription, DMSError>) -> Void) {
        serve(makePredictor: makePredictor, reportStartup: reportStartup)
        let isLast = condition.withLock {
            runningWorkers -= 1
            return runningWorkers == 0
        }
        if isLast { stopped.signal() }
    }

    private func serve(makePredictor: PredictorFactory, reportStartup: (Result<PredictorDescription, DMSError>) -> Void) {
        let predictor: any ModelPredictor
        do throws(DMSError) {
            predictor = try makePredictor()
        } catch {
            reportStartup(.failure(error))
            return
        }
        reportStartup(.success(predictor.description))
        var foundWaiting = false
        while let batch = nextBatch(afterBusyCall: foundWaiting) {
            foundWaiting = run(batch, on: predictor)
        }
    }

    /// Blocks until there is work and returns the next batch (its requests already counted as
    /// running), or nil when the scheduler stops and the queue is empty. `afterBusyCall` says
    /// that requests were waiting when the worker answered its last batch: the model is under
    /// load, and the batch may wait to fill.
    private func nextBatch(afterBusyCall: Bool) -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        var underLoad = afterBusyCall
        while true {
            while queue.isEmpty {
                if isStopping { return nil }
                underLoad = false
                condition.wait()
            }
            if underLoad, settings.maxBatchDelay > .zero {
                waitForBatchToFill()
                if queue.isEmpty { continue }
            }
            let batch = takeBatch()
            if !batch.isEmpty {
                counters.running += batch.count
                return batch
            }
        }
    }

    /// Waits (lock held, released while waiting) until the head request's batch is full, its
    /// delay is over, or the scheduler stops.
    private func waitForBatchToFill() {
        guard let head = queue.first else { return }
        let closing = head.arrival + settings.maxBatchDelay
        while !isStopping, queue.first === head, rowsAvailable(for: head) < settings.maxBatchSize {
            let remaining = ContinuousClock.now.duration(to: closing)
            guard remaining > .zero else { return }
            let seconds = Double(remaining.components.seconds) + Double(remaining.components.attoseconds) * 1e-18
            _ = condition.wait(until: Date(timeIntervalSinceNow: seconds))
        }
    }

    private func rowsAvailable(for head: Job) -> Int {
        queue.reduce(0) { rows, job in job.rowLayouts == head.rowLayouts ? rows + job.inputs.rowCount : rows }
    }

    /// Removes the head request and the queued requests that fit with it from the queue (lock
    /// held), answering those that expired or were abandoned on the way.
    private func takeBatch() -> [Job] {
        dropExpiredAndAbandoned()
        guard let head = queue.first else { return [] }
        var chosen = [0]
        var rows = head.inputs.rowCount
        var index = 1
        while index < queue.count, rows < settings.maxBatchSize {
            let job = queue[index]
            if job.rowLayouts == head.rowLayouts, rows + job.inputs.rowCount <= settings.maxBatchSize {
                chosen.append(index)
                rows += job.inputs.rowCount
            }
            index += 1
        }
        if let preferred = preferredBatchSizes {
            while chosen.count > 1, !preferred.contains(rows) {
                rows -= queue[chosen.removeLast()].inputs.rowCount
            }
        }
        let batch = chosen.map { queue[$0] }
        for index in chosen.reversed() { queue.remove(at: index) }
        return batch
    }

    /// Answers and removes the queued requests whose deadline has passed or whose client has
    /// gone (lock held).
    private func dropExpiredAndAbandoned() {
        let now = ContinuousClock.now
        queue.removeAll { job in
            if let deadline = job.deadline, deadline <= now {
                dropLocked(job, counting: \.expired, error: DMSError(.deadlineExceeded, "the request's deadline passed while it waited for model '\(name)'"))
                return true
            }
            if let clientGone = job.clientGone, clientGone() {
                dropLocked(job, counting: \.cancelled, error: DMSError(.unavailable, "the client went away before model '\(name)' ran the request"))
                return true
            }
            return false
        }
    }

    private func dropLocked(_ job: Job, counting counter: WritableKeyPath<Statistics, Int>, error: DMSError) {
        counters[keyPath: counter] += 1
        let continuation = job.continuation
        job.continuation = nil
        continuation?.resume(throwing: error)
    }

    /// Runs one batch on `predictor` and answers its requests. Returns whether other requests
    /// were waiting when it answered.
    private func run(_ batch: [Job], on predictor: any ModelPredictor) -> Bool {
        let (assembled, failures) = InputBatch.assemble(batch.map(\.inputs))
        var answers: [(Job, Result<[Tensor], DMSError>)] = failures.map { (batch[$0.index], .failure($0.error)) }
        if let assembled {
            condition.withLock {
                counters.engineCalls += 1
                counters.batchSizes[assembled.rowCount, default: 0] += 1
            }
            do throws(DMSError) {
                let shares = try assembled.split(try predictor.predict(assembled.tensors))
                for (member, share) in zip(assembled.members, shares) {
                    answers.append((batch[member.index], .success(share)))
                }
            } catch {
                answers += assembled.members.map { (batch[$0.index], .failure(error)) }
            }
        }
        let (continuations, foundWaiting) = condition.withLock {
            counters.running -= batch.count
            let continuations = answers.compactMap { job, result -> (CheckedContinuation<[Tensor], any Error>, Result<[Tensor], any Error>)? in
                guard let continuation = job.continuation else { return nil }
                job.continuation = nil
                if case .success = result { counters.requests += 1 } else { counters.failed += 1 }
                return (continuation, result.mapError { $0 as any Error })
            }
            return (continuations, !queue.isEmpty)
        }
        for (continuation, result) in continuations {
            continuation.resume(with: result)
        }
        return foundWaiting
    }
}
