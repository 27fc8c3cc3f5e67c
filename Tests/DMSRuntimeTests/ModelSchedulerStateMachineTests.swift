import DMSCore
import Synchronization
import Testing

@testable import DMSRuntime

/// Every scheduling rule, driven through `ModelScheduler.StateMachine` alone: no thread, no
/// lock, no clock (time is an instant the test moves), no engine.
@Suite("scheduler decisions")
struct ModelSchedulerStateMachineTests {
    typealias Machine = ModelScheduler.StateMachine<Int>

    private let start = ContinuousClock.now
    private func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    private static let vector = [PreparedInputs.RowLayout(dataType: .float32, rowShape: [4])]
    private static let image = [PreparedInputs.RowLayout(dataType: .float32, rowShape: [3, 8, 8])]

    private func machine(
        maxBatchSize: Int = 8, delay: Duration = .zero, queueSize: Int = 100, preferred: Set<Int>? = nil
    ) -> Machine {
        var machine = Machine(name: "m", settings: .init(workers: 1, maxBatchSize: maxBatchSize, maxBatchDelay: delay, queueSize: queueSize))
        machine.preferredBatchSizes = preferred
        return machine
    }

    private func request(
        _ id: Int, rows: Int = 1, layouts: [PreparedInputs.RowLayout] = vector, arrival: Int = 0, deadline: Int? = nil,
        clientGone: (@Sendable () -> Bool)? = nil
    ) -> Machine.Request {
        Machine.Request(id: id, rows: rows, layouts: layouts, arrival: at(arrival), deadline: deadline.map(at), clientGone: clientGone)
    }

    /// Submits requests that must all be queued.
    private func queue(_ machine: inout Machine, _ requests: Machine.Request...) {
        for request in requests {
            let admission = machine.submit(request, now: request.arrival)
            #expect(admission == .queued)
        }
    }

    private func next(_ machine: inout Machine, _ load: inout Machine.WorkerLoad, at milliseconds: Int = 0) -> Machine.WorkerAction {
        let (dropped, action) = machine.nextWork(&load, now: at(milliseconds))
        #expect(dropped.isEmpty, "unexpected drops \(dropped)")
        return action
    }

    // MARK: - Admission

    @Test func anIdleWorkerRunsTheFirstRequestAtOnceAlone() {
        var machine = machine()
        var load = Machine.WorkerLoad.idle
        #expect(next(&machine, &load) == .wait(until: nil))
        queue(&machine, request(1))
        #expect(next(&machine, &load) == .run([1]))
        #expect(machine.statistics.running == 1)
        #expect(machine.statistics.queued == 0)
    }

    @Test func aFullQueueRefusesAndCounts() {
        var machine = machine(queueSize: 2)
        queue(&machine, request(1), request(2))
        guard case .refused(let code, let message) = machine.submit(request(3), now: at(0)) else {
            Issue.record("a third request should be refused")
            return
        }
        #expect(code == .resourceExhausted)
        #expect(message.contains("2 requests waiting"))
        #expect(machine.statistics.rejected == 1)
        #expect(machine.statistics.queued == 2)
    }

    @Test func placesForRequestsWaitingForAdmission() {
        var machine = machine(queueSize: 3)
        #expect(machine.hasQueueSpace && machine.freePlaces == 3)
        queue(&machine, request(1), request(2), request(3))
        #expect(!machine.hasQueueSpace && machine.freePlaces == 0)
        let refusal = machine.refuseForFullQueue()
        #expect(refusal == .refused(.resourceExhausted, "model 'm' has 3 requests waiting, its limit; try again shortly"))
        #expect(machine.statistics.rejected == 1)
        var load = Machine.WorkerLoad.idle
        #expect(next(&machine, &load) == .run([1, 2, 3]))
        #expect(machine.freePlaces == 3)
        let first = machine.beginStopping()
        #expect(first)
        #expect(machine.freePlaces == 0)
    }

    @Test func aRequestWhoseDeadlinePassedIsRefusedOnArrival() {
        var machine = machine()
        let admission = machine.submit(request(1, deadline: 5), now: at(5))
        #expect(admission == .refused(.deadlineExceeded, "the request's deadline had passed when it reached model 'm'"))
        #expect(machine.statistics.expired == 1)
        #expect(machine.statistics.queued == 0)
    }

    @Test func aStoppingModelAdmitsNothingButFinishesItsQueue() {
        var machine = machine()
        var load = Machine.WorkerLoad.idle
        queue(&machine, request(1))
        let firstStop = machine.beginStopping()
        #expect(firstStop)
        let secondStop = machine.beginStopping()
        #expect(!secondStop)
        guard case .refused(.unavailable, _) = machine.submit(request(2), now: at(0)) else {
            Issue.record("a stopping model must refuse")
            return
        }
        #expect(next(&machine, &load) == .run([1]))
        let outcome = machine.finished([1], succeeded: [1: true])
        #expect(outcome.answer == [1])
        #expect(next(&machine, &load) == .stop)
    }

    // MARK: - Batching

    @Test func requestsWaitingTogetherShareOneCallUpToTheMaximumRows() {
        var machine = machine(maxBatchSize: 4)
        var load = Machine.WorkerLoad.idle
        queue(&machine, request(1, rows: 2), request(2, rows: 1), request(3, rows: 2), request(4, rows: 1), request(5, rows: 1))
        // 2 + 1 fit; 3 (2 rows) would make 5; 4 fills the batch to 4; 5 waits.
        #expect(next(&machine, &load) == .run([1, 2, 4]))
        #expect(machine.statistics.queued == 2)
        machine.engineCallStarted(rows: 4)
        let (answer, nextLoad) = machine.finished([1, 2, 4], succeeded: [1: true, 2: true, 4: true])
        #expect(answer == [1, 2, 4])
        #expect(nextLoad == .busy)
        load = nextLoad
        #expect(next(&machine, &load) == .run([3, 5]))
        #expect(machine.statistics.batchSizes == [4: 1])
        #expect(machine.statistics.requests == 3)
    }

    @Test func onlyRequestsWithTheHeadsLayoutsJoinItsBatch() {
        var machine = machine()
        var load = Machine.WorkerLoad.idle
        queue(&machine, request(1), request(2, layouts: Self.image), request(3), request(4, layouts: Self.image))
        #expect(next(&machine, &load) == .run([1, 3]))
        #expect(next(&machine, &load) == .run([2, 4]))
    }

    @Test func aRequestLargerThanTheMaximumRunsAlone() {
        var machine = machine(maxBatchSize: 4)
        var load = Machine.WorkerLoad.idle
        queue(&machine, request(1, rows: 6), request(2))
        #expect(next(&machine, &load) == .run([1]))
        #expect(next(&machine, &load) == .run([2]))
    }

    @Test func batchesAreCutBackToAPreferredSize() {
        var machine = machine(maxBatchSize: 8, preferred: [1, 2, 4, 8])
        var load = Machine.WorkerLoad.idle
        queue(&machine, request(1), request(2), request(3), request(4), request(5), request(6))
        // Six requests fill 6 rows; the largest preferred size they fill is 4.
        #expect(next(&machine, &load) == .run([1, 2, 3, 4]))
        #expect(next(&machine, &load) == .run([5, 6]))
    }

    @Test func aModelWithoutBatchingRunsOneRequestPerCall() {
        var machine = machine(maxBatchSize: 1)
        var load = Machine.WorkerLoad.idle
        queue(&machine, request(1), request(2))
        #expect(next(&machine, &load) == .run([1]))
        #expect(next(&machine, &load) == .run([2]))
    }

    // MARK: - Waiting for a batch to fill

    @Test func aBusyModelWaitsUpToTheDelayFromTheHeadsArrival() {
        var machine = machine(maxBatchSize: 4, delay: .milliseconds(10))
        var load = Machine.WorkerLoad.busy
        queue(&machine, request(1, arrival: 2))
        #expect(next(&machine, &load, at: 3) == .wait(until: at(12)))
        #expect(load == .filling(head: 1))
        // Woken by an arrival that does not fill the batch: it goes on waiting for the same time.
        queue(&machine, request(2, arrival: 5))
        #expect(next(&machine, &load, at: 5) == .wait(until: at(12)))
        // Time is up: what is there runs.
        #expect(next(&machine, &load, at: 12) == .run([1, 2]))
        #expect(load == .idle)
    }

    @Test func aFullBatchRunsBeforeTheDelayEnds() {
        var machine = machine(maxBatchSize: 2, delay: .milliseconds(10))
        var load = Machine.WorkerLoad.busy
        queue(&machine, request(1))
        #expect(next(&machine, &load, at: 1) == .wait(until: at(10)))
        queue(&machine, request(2, arrival: 2))
        #expect(next(&machine, &load, at: 2) == .run([1, 2]))
    }

    @Test func whenTheAwaitedRequestLeavesTheRestRunAtOnce() {
        var machine = machine(maxBatchSize: 4, delay: .milliseconds(10))
        var load = Machine.WorkerLoad.busy
        queue(&machine, request(1, deadline: 50), request(2, arrival: 1))
        #expect(next(&machine, &load, at: 1) == .wait(until: at(10)))
        let drop = machine.expire(1)
        #expect(drop?.code == .deadlineExceeded)
        #expect(next(&machine, &load, at: 2) == .run([2]))
    }

    @Test func anIdleWorkerNeverWaitsForABatch() {
        var machine = machine(maxBatchSize: 4, delay: .milliseconds(10))
        var load = Machine.WorkerLoad.idle
        queue(&machine, request(1))
        #expect(next(&machine, &load, at: 0) == .run([1]))
    }

    @Test func aStoppingModelDoesNotWaitForBatchesToFill() {
        var machine = machine(maxBatchSize: 4, delay: .milliseconds(10))
        var load = Machine.WorkerLoad.busy
        queue(&machine, request(1))
        _ = machine.beginStopping()
        #expect(next(&machine, &load, at: 0) == .run([1]))
    }

    @Test func theLoadFollowsWhetherRequestsWereWaitingWhenACallEnded() {
        var machine = machine(maxBatchSize: 1)
        var load = Machine.WorkerLoad.idle
        queue(&machine, request(1))
        #expect(next(&machine, &load) == .run([1]))
        let afterFirst = machine.finished([1], succeeded: [1: true])
        #expect(afterFirst.load == .idle)
        queue(&machine, request(2), request(3))
        #expect(next(&machine, &load) == .run([2]))
        let afterSecond = machine.finished([2], succeeded: [2: true])
        #expect(afterSecond.load == .busy)
        #expect(next(&machine, &load) == .run([3]))
        let afterThird = machine.finished([3], succeeded: [3: true])
        #expect(afterThird.load == .idle)
        #expect(next(&machine, &load) == .wait(until: nil))
    }

    // MARK: - Deadlines, cancellation, clients that leave

    @Test func aQueuedRequestWhoseDeadlinePassesIsAnsweredAndNeverRuns() {
        var machine = machine()
        var load = Machine.WorkerLoad.idle
        queue(&machine, request(1, deadline: 100), request(2))
        let drop = machine.expire(1)
        #expect(drop?.code == .deadlineExceeded)
        let secondDrop = machine.expire(1)
        #expect(secondDrop == nil)
        #expect(next(&machine, &load) == .run([2]))
        #expect(machine.statistics.expired == 1)
    }

    @Test func aWorkerDropsQueuedRequestsWhoseDeadlinePassedBeforeItsTimerFired() {
        var machine = machine()
        var load = Machine.WorkerLoad.idle
        queue(&machine, request(1, deadline: 10), request(2, deadline: 50))
        let (dropped, action) = machine.nextWork(&load, now: at(20))
        #expect(dropped.map(\.id) == [1])
        #expect(dropped.first?.code == .deadlineExceeded)
        #expect(action == .run([2]))
    }

    @Test func aRunningRequestWhoseDeadlinePassesIsAnsweredOnceAndItsResultDropped() {
        var machine = machine()
        var load = Machine.WorkerLoad.idle
        queue(&machine, request(1, deadline: 100), request(2))
        #expect(next(&machine, &load) == .run([1, 2]))
        let drop = machine.expire(1)
        #expect(drop?.code == .deadlineExceeded)
        #expect(machine.statistics.running == 2)
        let (answer, _) = machine.finished([1, 2], succeeded: [1: true, 2: true])
        #expect(answer == [2])
        let statistics = machine.statistics
        #expect(statistics.expired == 1)
        #expect(statistics.requests == 1)
        #expect(statistics.running == 0)
        let secondDrop = machine.expire(1)
        #expect(secondDrop == nil)
    }

    @Test func cancellingDropsAQueuedRequestButNotARunningOne() {
        var machine = machine(maxBatchSize: 1)
        var load = Machine.WorkerLoad.idle
        queue(&machine, request(1), request(2))
        #expect(next(&machine, &load) == .run([1]))
        let cancelledRunning = machine.cancel(1)
        #expect(!cancelledRunning)
        let cancelledQueued = machine.cancel(2)
        #expect(cancelledQueued)
        let cancelledTwice = machine.cancel(2)
        #expect(!cancelledTwice)
        #expect(machine.statistics.cancelled == 1)
        let outcome = machine.finished([1], succeeded: [1: true])
        #expect(outcome.answer == [1])
        #expect(next(&machine, &load) == .wait(until: nil))
    }

    @Test func requestsWhoseClientLeftAreDroppedWithoutAnEngineCall() {
        let gone = Mutex(false)
        var machine = machine()
        var load = Machine.WorkerLoad.idle
        queue(&machine, request(1, clientGone: { gone.withLock { $0 } }), request(2))
        gone.withLock { $0 = true }
        let (dropped, action) = machine.nextWork(&load, now: at(0))
        #expect(dropped == [Machine.Drop(id: 1, code: .unavailable, message: "the client went away before model 'm' ran the request")])
        #expect(action == .run([2]))
        #expect(machine.statistics.cancelled == 1)
    }

    @Test func aWorkerThatFindsOnlyDroppedRequestsWaits() {
        var machine = machine()
        var load = Machine.WorkerLoad.busy
        queue(&machine, request(1, deadline: 5))
        let (dropped, action) = machine.nextWork(&load, now: at(5))
        #expect(dropped.map(\.id) == [1])
        #expect(action == .wait(until: nil))
        #expect(load == .idle)
    }

    // MARK: - Outcomes

    @Test func failedRequestsAreCountedApartFromAnsweredOnes() {
        var machine = machine()
        var load = Machine.WorkerLoad.idle
        queue(&machine, request(1), request(2), request(3))
        #expect(next(&machine, &load) == .run([1, 2, 3]))
        machine.engineCallStarted(rows: 2)
        let (answer, _) = machine.finished([1, 2, 3], succeeded: [1: true, 2: false])
        #expect(answer == [1, 2, 3])
        let statistics = machine.statistics
        #expect(statistics.requests == 1)
        #expect(statistics.failed == 2)
        #expect(statistics.engineCalls == 1)
        #expect(statistics.batchSizes == [2: 1])
    }
}
