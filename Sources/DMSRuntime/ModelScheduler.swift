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
/// - **Back-pressure.** At most `queueSize` requests wait; another waits for a place up to
///   `admissionWait` before its body is read (`waitForAdmission`), then is refused
///   (`.resourceExhausted`, which the REST surface sends as 503 with `Retry-After`).
/// - **Deadlines.** A request's deadline is enforced when it passes: a request still queued is
///   answered `.deadlineExceeded` and never reaches the engine; one already in an engine call is
///   answered `.deadlineExceeded` too, and the call's result for it is dropped.
/// - **Abandoned requests.** A queued request whose client has gone (its `clientGone` check says
///   so when a worker looks at it) or whose task is cancelled is dropped without an engine call.
///
/// Every decision is made by `StateMachine`, a value tested without threads; this class only
/// carries its actions out: threads, the lock, timers and continuations. The mutable state is
/// guarded by `condition`, which also wakes idle workers; hence `@unchecked Sendable`.
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
        /// How long a request that finds the queue full waits for a place before it is refused
        /// (see `waitForAdmission`); zero refuses it at once.
        public var admissionWait: Duration

        public init(
            workers: Int = 1, maxBatchSize: Int = 8, maxBatchDelay: Duration = .zero, queueSize: Int = 100,
            admissionWait: Duration = .milliseconds(250)
        ) {
            self.workers = workers
            self.maxBatchSize = maxBatchSize
            self.maxBatchDelay = maxBatchDelay
            self.queueSize = queueSize
            self.admissionWait = admissionWait
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
        /// Where the time of the requests a worker ran went (the Open Inference Protocol's
        /// statistics extension reports it).
        public var timings = Timings()

        public init() {}
    }

    /// Cumulative times of the requests workers have run, each counted once per request (a
    /// batch's engine time counts for every request in it, as Triton counts it), and per batch
    /// size once per engine call.
    public struct Timings: Sendable, Equatable {
        /// Times of one step.
        public struct Step: Sendable, Equatable {
            public var count = 0
            public var total = Duration.zero

            public init() {}

            mutating func add(_ duration: Duration) {
                count += 1
                total += duration
            }
        }

        /// An engine call's steps.
        public struct Call: Sendable, Equatable {
            /// Writing the inputs into the batch (decoding images).
            public var input = Step()
            /// The engine call.
            public var infer = Step()
            /// Splitting the outputs per request.
            public var output = Step()

            public init() {}
        }

        /// Requests answered with outputs: from joining the queue to the answer.
        public var success = Step()
        /// Requests whose inputs or engine call failed: from joining the queue to the answer.
        public var failure = Step()
        /// Waiting in the queue.
        public var queue = Step()
        /// The engine call's steps, per request.
        public var call = Call()
        /// The engine call's steps, per batch size (rows), per engine call.
        public var byBatchSize: [Int: Call] = [:]
        /// When the last engine call ended; nil before the first.
        public var lastInference: Date?

        public init() {}
    }

    /// One request's inputs and its caller, while the scheduler has it. Guarded by the
    /// scheduler's `condition`.
    private struct Job {
        let inputs: PreparedInputs
        let arrival: ContinuousClock.Instant
        let continuation: CheckedContinuation<[Tensor], any Error>
    }

    /// Makes a worker's predictor, on the worker's own thread.
    public typealias PredictorFactory = @Sendable () throws(DMSError) -> any ModelPredictor

    public let name: String
    /// The settings in effect (batching is off for a model without a dynamic batch dimension).
    public let settings: Settings
    /// What the engine said about the model (from the first worker's predictor); set before
    /// `start` returns.
    public private(set) var predictorDescription = PredictorDescription(outputNames: [], outputActivation: .none)

    /// Guards `state`, `jobs`, `nextID` and `runningWorkers`, and wakes idle workers.
    private let condition = NSCondition()
    private var state: StateMachine<UInt64>
    /// The requests not yet answered, queued or running.
    private var jobs: [UInt64: Job] = [:]
    private var nextID: UInt64 = 0
    /// Requests waiting for a place in a full queue (`waitForAdmission`), in arrival order.
    private var admissionWaiters: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
    private var runningWorkers: Int
    /// Signalled once, by the last worker to stop, after it released its predictor.
    private let stopped = DispatchSemaphore(value: 0)

    /// Where time queued, engine time and batch sizes are recorded.
    private let metrics: ModelMetrics?

    private init(name: String, settings: Settings, batchable: Bool, metrics: ModelMetrics?) {
        self.name = name
        self.metrics = metrics
        var effective = settings
        if !batchable { effective.maxBatchSize = 1 }
        self.settings = effective
        self.state = StateMachine(name: name, settings: effective)
        self.runningWorkers = settings.workers
    }

    /// Starts `settings.workers` worker threads, each of which makes its predictor with
    /// `makePredictor` on its own thread and then serves; returns once every worker is ready.
    /// Engines keep per-thread state (an OpenMP team, oneDNN's scratch memory: about 15 MiB per
    /// thread for ResNet-18 at batch 8, measured), so a predictor is loaded and warmed up on the
    /// thread that will run it. Workers load one after another: MXNet crashes when two threads
    /// create predictors at once. If a worker fails to make its predictor, the workers started
    /// are stopped and its error is thrown. `batchable` says whether the model's inputs and
    /// outputs all have a dynamic batch dimension; the counters start from those of
    /// `carryingOver` (a scheduler this one replaces).
    public static func start(
        name: String, settings: Settings, batchable: Bool, metrics: ModelMetrics? = nil, carryingOver counts: Statistics = Statistics(),
        makePredictor: @escaping PredictorFactory
    ) async throws(DMSError) -> ModelScheduler {
        precondition(settings.workers > 0, "a model needs at least one worker")
        let scheduler = ModelScheduler(name: name, settings: settings, batchable: batchable, metrics: metrics)
        scheduler.carryOver(counts, minus: Statistics())
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
                    scheduler.state.preferredBatchSizes = description.preferredBatchSizes.map(Set.init)
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
        condition.withLock { state.statistics }
    }

    /// Adds the counters of `counts` beyond those of `minus` to this scheduler's: what the
    /// scheduler it replaced answered after this one started.
    public func carryOver(_ counts: Statistics, minus: Statistics) {
        condition.withLock { state.carryOver(counts, minus: minus) }
    }

    /// Runs the model on `inputs` (already validated against the signature) and returns this
    /// request's rows of the outputs, unless the queue is full, `deadline` passes first, or the
    /// client goes away while the request waits.
    public func predict(
        _ inputs: PreparedInputs, deadline: ContinuousClock.Instant? = nil, clientGone: (@Sendable () -> Bool)? = nil
    ) async throws(DMSError) -> [Tensor] {
        let id = condition.withLock {
            defer { nextID += 1 }
            return nextID
        }
        let timer = deadline.map { deadline in
            Task { [weak self] in
                try? await Task.sleep(until: deadline, clock: .continuous)
                guard !Task.isCancelled else { return }
                self?.expire(id)
            }
        }
        defer { timer?.cancel() }
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    let arrival = ContinuousClock.now
                    let request = StateMachine<UInt64>.Request(
                        id: id, rows: inputs.rowCount, layouts: inputs.rowLayouts, arrival: arrival, deadline: deadline, clientGone: clientGone)
                    submit(request, Job(inputs: inputs, arrival: arrival, continuation: continuation))
                }
            } onCancel: {
                cancel(id)
            }
        } catch let error as DMSError {
            throw error
        } catch {
            throw DMSError(.unavailable, "the request to model '\(name)' was cancelled", cause: error)
        }
    }

    /// Returns when the queue has a place for one more request: at once when it has one, else
    /// when a place opens, within `settings.admissionWait` (and before `deadline`); throws
    /// `.resourceExhausted` when none opened.
    ///
    /// Called before a request's body is read, so a request refused for a full queue costs no
    /// parsing and holds no memory, and one that waits holds only its connection. Refusing at
    /// once lets clients that retry at once (as load generators do) make the server answer
    /// thousands of refusals a second with the CPU the engine needs. Measured with ResNet-18, a
    /// queue of 8, 64 clients with a 1 s deadline, 2 cores (perf: 59 % of the CPU went to HTTP,
    /// multipart parsing and the Swift runtime, 41 % to the engine): refusing at once, MXNet
    /// answered 2.2 requests/s with a prediction against 26.6 at concurrency 16, with 3,000
    /// refusals a second and 259 answers after their deadline; ONNX Runtime 11.6 against 35.1.
    /// Waiting 250 ms bounds each client to four refusals a second: 27.7 against 26.1 (MXNet)
    /// and 35.6 against 33.1 (ONNX Runtime), no answer after its deadline.
    /// A place that opens goes to the longest waiter. The place is not reserved: a request let
    /// in may still find the queue full when it reaches `predict` (another worker's wake-up, a
    /// deadline or a cancellation can let more waiters in than places are left) and is then
    /// refused, after its body was read.
    public func waitForAdmission(deadline: ContinuousClock.Instant?) async throws(DMSError) {
        let now = ContinuousClock.now
        var limit = now + settings.admissionWait
        if let deadline { limit = min(limit, deadline) }
        let waiter: UInt64? = condition.withLock {
            // Behind requests already waiting, a newcomer waits too, even for a place that
            // opened: the longest waiter gets it.
            guard !state.hasQueueSpace || !admissionWaiters.isEmpty, !state.isStopping, limit > now else { return nil }
            defer { nextID += 1 }
            return nextID
        }
        guard let waiter else { return }
        let timer = Task { [weak self] in
            try? await Task.sleep(until: limit, clock: .continuous)
            self?.stopWaitingForAdmission(waiter)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let admittedAtOnce = condition.withLock {
                    // The timer may have fired already (a limit a few microseconds away): then
                    // nothing would ever take this waiter off the list.
                    guard state.freePlaces == 0 || !admissionWaiters.isEmpty, !state.isStopping, ContinuousClock.now < limit else { return true }
                    admissionWaiters.append((waiter, continuation))
                    return false
                }
                if admittedAtOnce { continuation.resume() }
            }
        } onCancel: {
            stopWaitingForAdmission(waiter)
        }
        timer.cancel()
        let refusal = condition.withLock { state.hasQueueSpace || state.isStopping ? nil : state.refuseForFullQueue() }
        if case .refused(let code, let message) = refusal {
            throw DMSError(code, message)
        }
    }

    private func stopWaitingForAdmission(_ waiter: UInt64) {
        let continuation: CheckedContinuation<Void, Never>? = condition.withLock {
            guard let index = admissionWaiters.firstIndex(where: { $0.id == waiter }) else { return nil }
            return admissionWaiters.remove(at: index).continuation
        }
        continuation?.resume()
    }

    /// Lets as many admission waiters go as the queue has places (all of them when the model
    /// stops); called with the lock held whenever the queue shrinks.
    private func admitWaitersLocked() {
        let count = state.isStopping ? admissionWaiters.count : min(state.freePlaces, admissionWaiters.count)
        guard count > 0 else { return }
        for waiter in admissionWaiters.prefix(count) { waiter.continuation.resume() }
        admissionWaiters.removeFirst(count)
    }

    /// Finishes the queued requests, then stops the workers and releases the predictors (and
    /// with them the engine's resources). Returns when that is done.
    public func shutdown() async {
        let first = condition.withLock {
            let first = state.beginStopping()
            admitWaitersLocked()
            return first
        }
        guard first else { return }
        condition.broadcast()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { [stopped] in
                stopped.wait()
                continuation.resume()
            }
        }
    }

    // MARK: - Carrying out the state machine's decisions

    private func submit(_ request: StateMachine<UInt64>.Request, _ job: Job) {
        let admission = condition.withLock {
            let admission = state.submit(request, now: .now)
            if admission == .queued { jobs[request.id] = job }
            return admission
        }
        switch admission {
        case .queued:
            condition.signal()
        case .refused(let code, let message):
            job.continuation.resume(throwing: DMSError(code, message))
        }
    }

    private func expire(_ id: UInt64) {
        let answer: (Job, StateMachine<UInt64>.Drop)? = condition.withLock {
            guard let drop = state.expire(id), let job = jobs.removeValue(forKey: id) else { return nil }
            admitWaitersLocked()
            return (job, drop)
        }
        if let (job, drop) = answer {
            job.continuation.resume(throwing: DMSError(drop.code, drop.message))
        }
    }

    private func cancel(_ id: UInt64) {
        let job: Job? = condition.withLock {
            guard state.cancel(id) else { return nil }
            admitWaitersLocked()
            return jobs.removeValue(forKey: id)
        }
        job?.continuation.resume(throwing: CancellationError())
    }

    /// Answers dropped requests; called with the lock held (resuming a continuation only
    /// schedules its task).
    private func answerLocked(_ drops: [StateMachine<UInt64>.Drop]) {
        for drop in drops {
            jobs.removeValue(forKey: drop.id)?.continuation.resume(throwing: DMSError(drop.code, drop.message))
        }
    }

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
        var load = StateMachine<UInt64>.WorkerLoad.idle
        while let batch = nextBatch(&load) {
            load = run(batch, on: predictor)
        }
    }

    /// Blocks until the state machine gives this worker a batch (returned with each request's
    /// inputs), or returns nil when the worker is to stop.
    private func nextBatch(_ load: inout StateMachine<UInt64>.WorkerLoad) -> [(id: UInt64, inputs: PreparedInputs, arrival: ContinuousClock.Instant)]? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            let (dropped, action) = state.nextWork(&load, now: .now)
            answerLocked(dropped)
            admitWaitersLocked()
            switch action {
            case .run(let ids):
                return ids.compactMap { id in jobs[id].map { (id, $0.inputs, $0.arrival) } }
            case .wait(until: nil):
                condition.wait()
            case .wait(until: let instant?):
                _ = condition.wait(until: Date(timeIntervalSinceNow: max(0, ContinuousClock.now.duration(to: instant).seconds)))
            case .stop:
                return nil
            }
        }
    }

    /// Runs one batch on `predictor` and answers its requests. Returns the worker's load for
    /// its next batch.
    private func run(
        _ batch: [(id: UInt64, inputs: PreparedInputs, arrival: ContinuousClock.Instant)], on predictor: any ModelPredictor
    ) -> StateMachine<UInt64>.WorkerLoad {
        // Time queued: from arrival until a worker takes the request. The worker then writes the
        // batch's inputs (decoding images), then calls the engine: the engine time.
        let taken = ContinuousClock.now
        if let metrics {
            for request in batch { metrics.queueDuration.record(taken - request.arrival) }
        }
        var engineStart: ContinuousClock.Instant?
        var engineEnd: ContinuousClock.Instant?
        var rows = 0
        let outcomes = PredictionPipeline.run(
            batch.map(\.inputs), on: predictor,
            engineCallStarting: { batchRows in
                condition.withLock { state.engineCallStarted(rows: batchRows) }
                engineStart = .now
                rows = batchRows
                metrics?.batchSize.record(batchRows)
            },
            engineCallEnded: { engineEnd = .now })
        if let metrics, let engineStart { metrics.inferenceDuration.record((engineEnd ?? .now) - engineStart) }
        let results = Dictionary(uniqueKeysWithValues: zip(batch.map(\.id), outcomes))
        let timing = StateMachine<UInt64>.BatchTiming(
            arrivals: Dictionary(uniqueKeysWithValues: batch.map { ($0.id, $0.arrival) }), taken: taken,
            engineStart: engineStart, engineEnd: engineEnd, end: .now, rows: rows)
        let (answers, load) = condition.withLock {
            let ids = batch.map(\.id)
            let (answer, load) = state.finished(ids, succeeded: results.mapValues { if case .success = $0 { true } else { false } }, timing: timing)
            return (answer.compactMap { id in jobs.removeValue(forKey: id).map { ($0, results[id]) } }, load)
        }
        for (job, result) in answers {
            job.continuation.resume(with: (result ?? .failure(DMSError(.internalError, "no result for a request"))).mapError { $0 as any Error })
        }
        return load
    }
}
