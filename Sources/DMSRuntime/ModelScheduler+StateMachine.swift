import DMSCore
import Foundation

extension ModelScheduler {
    /// Every decision of the scheduler, as a value: which requests are admitted, which wait,
    /// which run together, which are dropped, and when a worker sleeps or stops.
    ///
    /// It owns no thread, lock, clock or continuation: the scheduler feeds it events (a request
    /// arrived, a deadline passed, a worker is free, an engine call finished, the model stops)
    /// with the current time, and carries out the actions it returns, as AsyncHTTPClient's
    /// connection pool does with its state machine. So every rule is tested without threads
    /// (`ModelSchedulerStateMachineTests`). Requests are named by `ID`; the scheduler keeps
    /// what belongs to each (its inputs, its continuation).
    ///
    /// A request is in one of three places: queued; running (in an engine call, still to be
    /// answered from it); or answered early (its deadline passed while it ran: it counts as
    /// running until the call ends, but the call's result for it is dropped).
    struct StateMachine<ID: Hashable & Sendable> {
        /// What the state machine needs to know of a request.
        struct Request {
            var id: ID
            /// Rows it adds to a batch (its batch dimension).
            var rows: Int
            /// What must agree for requests to share an engine call.
            var layouts: [PreparedInputs.RowLayout]
            var arrival: ContinuousClock.Instant
            var deadline: ContinuousClock.Instant?
            /// Says whether the request's client has gone; asked when a worker looks at it.
            var clientGone: (@Sendable () -> Bool)?
        }

        /// What becomes of a request that arrives.
        enum Admission: Equatable {
            /// Queued: wake one idle worker.
            case queued
            /// Refused at once with this error.
            case refused(DMSError.Code, String)
        }

        /// Whether a worker may wait for its batch to fill. Kept by each worker between its
        /// calls of `nextWork`.
        enum WorkerLoad: Equatable {
            /// The worker found the queue empty, or has not run yet: it never waits for more.
            case idle
            /// Requests were waiting when its last call ended: the model is busy, and a batch
            /// may wait up to `maxBatchDelay` to fill.
            case busy
            /// Waiting for the batch of the queued request `head` to fill.
            case filling(head: ID)
        }

        /// What a free worker does next.
        enum WorkerAction: Equatable {
            /// Run these requests (in this order) in one engine call; they now count as running.
            case run([ID])
            /// Sleep until a request arrives, the model stops, or `until` (when given) passes.
            case wait(until: ContinuousClock.Instant?)
            /// The model is stopping and the queue is empty: release the predictor.
            case stop
        }

        /// A request answered without an engine call: the scheduler resumes it with `error`.
        struct Drop: Equatable {
            var id: ID
            var code: DMSError.Code
            var message: String
        }

        let name: String
        let settings: Settings
        /// The batch sizes the engine prefers (see `PredictorDescription.preferredBatchSizes`);
        /// batches are cut back to the largest of them that the requests fill.
        var preferredBatchSizes: Set<Int>?

        private(set) var queue: [Request] = []
        private(set) var isStopping = false
        private var running: Set<ID> = []
        private var counters = Statistics()

        init(name: String, settings: Settings) {
            self.name = name
            self.settings = settings
        }

        /// Adds the counters of `counts` beyond those of `minus` (queued and running aside): a
        /// model's counters go on across the schedulers a settings change puts in place.
        mutating func carryOver(_ counts: Statistics, minus: Statistics) {
            counters.requests += counts.requests - minus.requests
            counters.engineCalls += counts.engineCalls - minus.engineCalls
            for (size, calls) in counts.batchSizes {
                counters.batchSizes[size, default: 0] += calls - minus.batchSizes[size, default: 0]
            }
            counters.batchSizes = counters.batchSizes.filter { $0.value != 0 }
            counters.rejected += counts.rejected - minus.rejected
            counters.expired += counts.expired - minus.expired
            counters.cancelled += counts.cancelled - minus.cancelled
            counters.failed += counts.failed - minus.failed
            counters.timings.add(counts.timings, minus: minus.timings)
        }

        /// The counters, with `queued` filled in.
        var statistics: Statistics {
            var snapshot = counters
            snapshot.queued = queue.count
            return snapshot
        }

        // MARK: - Requests

        /// A request arrives: it is refused when the model is stopping, its deadline has
        /// passed, or `queueSize` requests already wait; otherwise it joins the queue.
        mutating func submit(_ request: Request, now: ContinuousClock.Instant) -> Admission {
            if isStopping {
                return .refused(.unavailable, "model '\(name)' is shutting down")
            }
            if let deadline = request.deadline, deadline <= now {
                counters.expired += 1
                return .refused(.deadlineExceeded, "the request's deadline had passed when it reached model '\(name)'")
            }
            guard hasQueueSpace else { return refuseForFullQueue() }
            queue.append(request)
            return .queued
        }

        /// Whether a request arriving now would find a place in the queue.
        var hasQueueSpace: Bool { queue.count < settings.queueSize }

        /// Places that requests waiting for admission may take now.
        var freePlaces: Int { isStopping ? 0 : max(0, settings.queueSize - queue.count) }

        /// A request is refused because the queue is full (on arrival, or after waiting for a
        /// place in vain).
        mutating func refuseForFullQueue() -> Admission {
            counters.rejected += 1
            return .refused(.resourceExhausted, "model '\(name)' has \(queue.count) requests waiting, its limit; try again shortly")
        }

        /// A request's deadline passed: whether it waits or runs, it is answered now (a running
        /// request's share of its engine call is dropped). Nil when it was answered already.
        mutating func expire(_ id: ID) -> Drop? {
            if let index = queue.firstIndex(where: { $0.id == id }) {
                queue.remove(at: index)
            } else if running.remove(id) == nil {
                return nil
            }
            counters.expired += 1
            return Drop(id: id, code: .deadlineExceeded, message: "the request's deadline passed before model '\(name)' answered it")
        }

        /// A request's task was cancelled: it is dropped if it still waits (true); one already
        /// running finishes.
        mutating func cancel(_ id: ID) -> Bool {
            guard let index = queue.firstIndex(where: { $0.id == id }) else { return false }
            queue.remove(at: index)
            counters.cancelled += 1
            return true
        }

        // MARK: - Workers

        /// A worker is free. Returns the requests to answer at once (queued requests whose
        /// deadline passed or whose client left) and what the worker does next.
        mutating func nextWork(_ load: inout WorkerLoad, now: ContinuousClock.Instant) -> (dropped: [Drop], action: WorkerAction) {
            let dropped = dropExpiredAndAbandoned(now: now)
            guard let head = queue.first else {
                load = .idle
                return (dropped, isStopping ? .stop : .wait(until: nil))
            }
            if settings.maxBatchDelay > .zero, !isStopping {
                switch load {
                case .idle:
                    break
                case .busy:
                    load = .filling(head: head.id)
                    if let closing = closingTime(for: head, now: now) { return (dropped, .wait(until: closing)) }
                case .filling(let waitingFor) where waitingFor == head.id:
                    if let closing = closingTime(for: head, now: now) { return (dropped, .wait(until: closing)) }
                case .filling:
                    // The request it waited for was answered or dropped: run what is there.
                    break
                }
            }
            let batch = takeBatch()
            load = .idle
            running.formUnion(batch)
            counters.running += batch.count
            return (dropped, .run(batch))
        }

        /// An engine call starts on `rows` rows.
        mutating func engineCallStarted(rows: Int) {
            counters.engineCalls += 1
            counters.batchSizes[rows, default: 0] += 1
        }

        /// The engine call for `batch` ended; `succeeded` tells, per request, whether it got
        /// outputs. Returns the requests to answer from the call (those not answered early)
        /// and the worker's load for its next `nextWork`.
        mutating func finished(_ batch: [ID], succeeded: [ID: Bool], timing: BatchTiming? = nil) -> (answer: [ID], load: WorkerLoad) {
            counters.running -= batch.count
            var answer: [ID] = []
            for id in batch where running.remove(id) != nil {
                answer.append(id)
                if succeeded[id] == true { counters.requests += 1 } else { counters.failed += 1 }
                if let timing, let arrival = timing.arrivals[id] {
                    counters.timings.record(timing, arrival: arrival, succeeded: succeeded[id] == true)
                }
            }
            if let timing, timing.engineStart != nil {
                counters.timings.recordCall(timing)
            }
            return (answer, queue.isEmpty ? .idle : .busy)
        }

        /// When the requests of one engine call arrived and when its steps happened.
        struct BatchTiming: Sendable {
            var arrivals: [ID: ContinuousClock.Instant]
            /// When a worker took the batch from the queue.
            var taken: ContinuousClock.Instant
            /// When the engine call started and ended: nil when no input could be written.
            var engineStart: ContinuousClock.Instant?
            var engineEnd: ContinuousClock.Instant?
            /// When every request's outputs were ready.
            var end: ContinuousClock.Instant
            var rows: Int
        }

        /// The model stops: no request is admitted any more, the workers finish the queue and
        /// then stop. False when it was stopping already.
        mutating func beginStopping() -> Bool {
            defer { isStopping = true }
            return !isStopping
        }

        // MARK: - Rules

        /// When the batch of `head` stops waiting to fill: nil when it is full or its time is
        /// up (run it now).
        private func closingTime(for head: Request, now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
            let closing = head.arrival + settings.maxBatchDelay
            let rows = queue.reduce(0) { rows, request in request.layouts == head.layouts ? rows + request.rows : rows }
            return rows < settings.maxBatchSize && now < closing ? closing : nil
        }

        /// Removes the head request and the queued requests that fit with it (same layouts,
        /// at most `maxBatchSize` rows in all, in arrival order), cut back to a preferred batch
        /// size when the engine has some. A request larger than `maxBatchSize` runs alone.
        private mutating func takeBatch() -> [ID] {
            guard let head = queue.first else { return [] }
            var chosen = [0]
            var rows = head.rows
            var index = 1
            while index < queue.count, rows < settings.maxBatchSize {
                let request = queue[index]
                if request.layouts == head.layouts, rows + request.rows <= settings.maxBatchSize {
                    chosen.append(index)
                    rows += request.rows
                }
                index += 1
            }
            if let preferred = preferredBatchSizes {
                while chosen.count > 1, !preferred.contains(rows) {
                    rows -= queue[chosen.removeLast()].rows
                }
            }
            let batch = chosen.map { queue[$0].id }
            for index in chosen.reversed() { queue.remove(at: index) }
            return batch
        }

        /// Removes the queued requests whose deadline has passed or whose client has gone.
        private mutating func dropExpiredAndAbandoned(now: ContinuousClock.Instant) -> [Drop] {
            var dropped: [Drop] = []
            queue.removeAll { request in
                if let deadline = request.deadline, deadline <= now {
                    counters.expired += 1
                    dropped.append(Drop(id: request.id, code: .deadlineExceeded, message: "the request's deadline passed while it waited for model '\(name)'"))
                    return true
                }
                if let clientGone = request.clientGone, clientGone() {
                    counters.cancelled += 1
                    dropped.append(Drop(id: request.id, code: .unavailable, message: "the client went away before model '\(name)' ran the request"))
                    return true
                }
                return false
            }
            return dropped
        }
    }
}

extension ModelScheduler.Timings {
    /// Counts one request of an engine call.
    mutating func record<ID>(_ timing: ModelScheduler.StateMachine<ID>.BatchTiming, arrival: ContinuousClock.Instant, succeeded: Bool) {
        if succeeded { success.add(timing.end - arrival) } else { failure.add(timing.end - arrival) }
        queue.add(timing.taken - arrival)
        guard let engineStart = timing.engineStart else { return }
        let engineEnd = timing.engineEnd ?? timing.end
        call.input.add(engineStart - timing.taken)
        call.infer.add(engineEnd - engineStart)
        call.output.add(timing.end - engineEnd)
    }

    /// Counts one engine call under its batch size.
    mutating func recordCall<ID>(_ timing: ModelScheduler.StateMachine<ID>.BatchTiming) {
        guard let engineStart = timing.engineStart else { return }
        let engineEnd = timing.engineEnd ?? timing.end
        byBatchSize[timing.rows, default: Call()].input.add(engineStart - timing.taken)
        byBatchSize[timing.rows, default: Call()].infer.add(engineEnd - engineStart)
        byBatchSize[timing.rows, default: Call()].output.add(timing.end - engineEnd)
        lastInference = Date()
    }

    /// Adds the times of `counts` beyond those of `minus` (see `StateMachine.carryOver`).
    mutating func add(_ counts: Self, minus: Self) {
        func merge(_ into: inout Step, _ counted: Step, _ before: Step) {
            into.count += counted.count - before.count
            into.total += counted.total - before.total
        }
        func mergeCall(_ into: inout Call, _ a: Call, _ b: Call) {
            merge(&into.input, a.input, b.input)
            merge(&into.infer, a.infer, b.infer)
            merge(&into.output, a.output, b.output)
        }
        merge(&success, counts.success, minus.success)
        merge(&failure, counts.failure, minus.failure)
        merge(&queue, counts.queue, minus.queue)
        mergeCall(&call, counts.call, minus.call)
        for (size, calls) in counts.byBatchSize {
            mergeCall(&byBatchSize[size, default: Call()], calls, minus.byBatchSize[size] ?? Call())
        }
        if let last = counts.lastInference, lastInference.map({ $0 < last }) ?? true { lastInference = last }
    }
}
