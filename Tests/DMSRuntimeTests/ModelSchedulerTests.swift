import DMSCore
import Foundation
import Synchronization
import Testing

@testable import DMSRuntime

/// A stand-in predictor for scheduling tests only (end-to-end tests use the real engines): it
/// doubles its input, records the values of each call (one list per engine call), and can hold
/// each call (on the worker's own thread) until the test signals `gate`.
private final class GatedPredictor: ModelPredictor, @unchecked Sendable {
    let description: PredictorDescription
    let calls = Mutex<[[Float]]>([])
    let running = Mutex(0)
    let gate = DispatchSemaphore(value: 0)
    let holds: Bool

    init(holds: Bool, preferredBatchSizes: [Int]? = nil) {
        self.holds = holds
        self.description = PredictorDescription(outputNames: ["y"], outputActivation: .none, preferredBatchSizes: preferredBatchSizes)
    }

    func predict(_ inputs: [Tensor]) throws(DMSError) -> [Tensor] {
        let values = inputs[0].floats
        calls.withLock { $0.append(values) }
        running.withLock { $0 += 1 }
        if holds { gate.wait() }
        running.withLock { $0 -= 1 }
        if values.contains(where: { $0 < 0 }) { throw DMSError(.engineFailure, "negative input") }
        return [Tensor(shape: inputs[0].shape, floats: values.map { $0 * 2 })]
    }

    var callCount: Int { calls.withLock { $0.count } }
}

private func inputs(_ values: Float...) -> PreparedInputs {
    PreparedInputs(tensors: [Tensor(shape: [values.count, 1], floats: values)])
}

private func doubled(_ values: Float...) -> [Tensor] {
    [Tensor(shape: [values.count, 1], floats: values.map { $0 * 2 })]
}

/// An input whose writer fails, as an image that turns out damaged when decoded.
private func damagedInput() -> PreparedInputs {
    PreparedInputs([
        PreparedInputs.Input(dataType: .float32, shape: [1, 1]) { _ throws(DMSError) in
            throw DMSError(.invalidInput, "damaged image")
        }
    ])
}

private func waitUntil(_ condition: @escaping @Sendable () -> Bool) async {
    for _ in 0..<500 where !condition() { try? await Task.sleep(for: .milliseconds(10)) }
}

/// Sends a request (of value 100) that `predictor` holds until its gate is signalled, and
/// returns once the worker is running it.
private func holdWorker(_ scheduler: ModelScheduler, _ predictor: GatedPredictor) async -> Task<[Tensor], any Error> {
    let callsBefore = predictor.callCount
    let blocker = Task { try await scheduler.predict(inputs(100)) }
    await waitUntil { predictor.callCount > callsBefore }
    return blocker
}

/// Queues `requests` one after another (each waits in the queue before the next is sent), so
/// their order is known.
private func enqueueInOrder(_ scheduler: ModelScheduler, _ requests: [PreparedInputs]) async -> [Task<[Tensor], any Error>] {
    var tasks: [Task<[Tensor], any Error>] = []
    let alreadyQueued = scheduler.statistics.queued
    for request in requests {
        tasks.append(Task { try await scheduler.predict(request) })
        let expected = alreadyQueued + tasks.count
        await waitUntil { scheduler.statistics.queued >= expected }
    }
    return tasks
}

/// A scheduler whose workers take `predictors`, one each.
private func startScheduler(
    _ predictors: [GatedPredictor], batchSize: Int = 8, delay: Duration = .zero, queueSize: Int = 100, batchable: Bool = true,
    admissionWait: Duration = .zero
) async throws -> ModelScheduler {
    let unclaimed = Mutex(predictors)
    return try await ModelScheduler.start(
        name: "m",
        settings: .init(workers: predictors.count, maxBatchSize: batchSize, maxBatchDelay: delay, queueSize: queueSize, admissionWait: admissionWait),
        batchable: batchable
    ) { () throws(DMSError) in unclaimed.withLock { $0.removeFirst() } }
}

// Serialized, and no test blocks a thread: the cooperative pool is as wide as the machine (2).
@Suite("model scheduling", .serialized)
struct ModelSchedulerTests {
    @Test func answersEachRequestAloneAtLowLoadAndPropagatesEngineErrors() async throws {
        let predictor = GatedPredictor(holds: false)
        let scheduler = try await startScheduler([predictor], delay: .seconds(5))
        for value in [1, 2, 3] as [Float] {
            #expect(try await scheduler.predict(inputs(value)) == doubled(value))
        }
        await #expect(throws: DMSError.self) { try await scheduler.predict(inputs(-1)) }
        #expect(predictor.calls.withLock { $0 } == [[1], [2], [3], [-1]])
        let statistics = scheduler.statistics
        #expect(statistics.engineCalls == 4 && statistics.batchSizes == [1: 4] && statistics.requests == 3 && statistics.failed == 1)
        await scheduler.shutdown()
    }

    @Test func requestsQueuedWhileBusyShareOneCallAndGetTheirOwnRows() async throws {
        let predictor = GatedPredictor(holds: true)
        let scheduler = try await startScheduler([predictor])
        let blocker = await holdWorker(scheduler, predictor)
        let queued = await enqueueInOrder(scheduler, [inputs(1), inputs(2, 3), inputs(4)])
        predictor.gate.signal()
        predictor.gate.signal()
        #expect(try await blocker.value == doubled(100))
        #expect(try await queued[0].value == doubled(1))
        #expect(try await queued[1].value == doubled(2, 3))
        #expect(try await queued[2].value == doubled(4))
        #expect(predictor.calls.withLock { $0 } == [[100], [1, 2, 3, 4]])
        #expect(scheduler.statistics.batchSizes == [1: 1, 4: 1])
        // Times per request (4 requests: the blocker and the 3 queued behind it) and per engine
        // call of each batch size; the queued ones waited while the blocker held the worker.
        let timings = scheduler.statistics.timings
        #expect(timings.success.count == 4 && timings.failure.count == 0 && timings.queue.count == 4)
        #expect(timings.call.infer.count == 4 && timings.call.input.count == 4 && timings.call.output.count == 4)
        #expect(timings.byBatchSize.mapValues(\.infer.count) == [1: 1, 4: 1])
        #expect(timings.queue.total > .zero && timings.success.total >= timings.queue.total + timings.call.infer.total)
        #expect(timings.lastInference.map { abs($0.timeIntervalSinceNow) < 60 } == true)
        await scheduler.shutdown()
    }

    @Test func batchesRespectTheMaximumRowsAndInputShapes() async throws {
        let predictor = GatedPredictor(holds: true)
        let scheduler = try await startScheduler([predictor], batchSize: 2)
        let blocker = await holdWorker(scheduler, predictor)
        let wide = PreparedInputs(tensors: [Tensor(shape: [1, 2], floats: [7, 8])])
        let queued = await enqueueInOrder(scheduler, [inputs(1), inputs(2), inputs(3), wide])
        for _ in 0..<4 { predictor.gate.signal() }
        _ = try await blocker.value
        for task in queued { _ = try await task.value }
        #expect(predictor.calls.withLock { $0 } == [[100], [1, 2], [3], [7, 8]])
        await scheduler.shutdown()
    }

    @Test func batchesAreCutBackToTheEnginesPreferredSizes() async throws {
        let predictor = GatedPredictor(holds: true, preferredBatchSizes: [1, 2, 4, 8])
        let scheduler = try await startScheduler([predictor])
        let blocker = await holdWorker(scheduler, predictor)
        let queued = await enqueueInOrder(scheduler, [inputs(1), inputs(2), inputs(3), inputs(4), inputs(5), inputs(6), inputs(7)])
        for _ in 0..<4 { predictor.gate.signal() }
        _ = try await blocker.value
        for (value, task) in zip(1..., queued) { #expect(try await task.value == doubled(Float(value))) }
        #expect(predictor.calls.withLock { $0 } == [[100], [1, 2, 3, 4], [5, 6], [7]])
        await scheduler.shutdown()
    }

    @Test func modelsWithoutADynamicBatchRunOneRequestPerCall() async throws {
        let predictor = GatedPredictor(holds: true)
        let scheduler = try await startScheduler([predictor], batchable: false)
        #expect(scheduler.settings.maxBatchSize == 1)
        let blocker = await holdWorker(scheduler, predictor)
        let queued = [Task { try await scheduler.predict(inputs(1)) }, Task { try await scheduler.predict(inputs(2)) }]
        await waitUntil { scheduler.statistics.queued == 2 }
        for _ in 0..<3 { predictor.gate.signal() }
        _ = try await blocker.value
        for task in queued { _ = try await task.value }
        #expect(scheduler.statistics.batchSizes == [1: 3])
        await scheduler.shutdown()
    }

    @Test func aRequestWhoseInputsFailIsAnsweredAloneAndTheRestRun() async throws {
        let predictor = GatedPredictor(holds: true)
        let scheduler = try await startScheduler([predictor])
        let blocker = await holdWorker(scheduler, predictor)
        let good = Task { try await scheduler.predict(inputs(1)) }
        await waitUntil { scheduler.statistics.queued == 1 }
        let damaged = Task { try await scheduler.predict(damagedInput()) }
        await waitUntil { scheduler.statistics.queued == 2 }
        predictor.gate.signal()
        predictor.gate.signal()
        _ = try await blocker.value
        #expect(try await good.value == doubled(1))
        await #expect(throws: DMSError.self) { try await damaged.value }
        #expect(predictor.calls.withLock { $0 } == [[100], [1]])
        #expect(scheduler.statistics.failed == 1)
        await scheduler.shutdown()
    }

    @Test func aBusyWorkerWaitsForTheBatchToFillUntilTheDelay() async throws {
        let predictor = GatedPredictor(holds: true)
        let scheduler = try await startScheduler([predictor], batchSize: 3, delay: .seconds(30))
        let blocker = await holdWorker(scheduler, predictor)
        let first = Task { try await scheduler.predict(inputs(1)) }
        await waitUntil { scheduler.statistics.queued == 1 }
        predictor.gate.signal()
        _ = try await blocker.value
        // The worker found a request waiting after a busy call: it holds it for the delay or a
        // full batch, whichever comes first.
        try await Task.sleep(for: .milliseconds(100))
        #expect(predictor.callCount == 1)
        let more = await enqueueInOrder(scheduler, [inputs(2)]) + [Task { try await scheduler.predict(inputs(3)) }]
        await waitUntil { predictor.callCount == 2 }
        predictor.gate.signal()
        #expect(try await first.value == doubled(1))
        for task in more { _ = try await task.value }
        #expect(predictor.calls.withLock { $0 }.last == [1, 2, 3])
        await scheduler.shutdown()
    }

    @Test(arguments: [1, 2])
    func aWorkerThatCannotLoadStopsTheStart(failingAttempt: Int) async throws {
        let loads = Mutex(0)
        await #expect(throws: DMSError.self) {
            _ = try await ModelScheduler.start(name: "m", settings: .init(workers: 2), batchable: true) { () throws(DMSError) in
                let attempt = loads.withLock { count -> Int in
                    count += 1
                    return count
                }
                if attempt == failingAttempt { throw DMSError(.invalidModel, "copy \(attempt) does not load") }
                return GatedPredictor(holds: false)
            }
        }
        #expect(loads.withLock { $0 } == failingAttempt)
    }

    @Test func workersRunInParallel() async throws {
        let predictors = [GatedPredictor(holds: true), GatedPredictor(holds: true)]
        let scheduler = try await startScheduler(predictors)
        let first = Task { try await scheduler.predict(inputs(1)) }
        await waitUntil { scheduler.statistics.running == 1 }
        let second = Task { try await scheduler.predict(inputs(2)) }
        await waitUntil { predictors.allSatisfy { $0.running.withLock { $0 } == 1 } }
        #expect(predictors.allSatisfy { $0.running.withLock { $0 } == 1 })
        let calls = [first, second]
        predictors.forEach { $0.gate.signal() }
        for task in calls { _ = try await task.value }
        #expect(scheduler.statistics.engineCalls == 2)
        await scheduler.shutdown()
    }

    @Test func fullQueueIsRefusedAtOnce() async throws {
        let predictor = GatedPredictor(holds: true)
        let scheduler = try await startScheduler([predictor], queueSize: 2)
        let blocker = await holdWorker(scheduler, predictor)
        let queued = [Task { try await scheduler.predict(inputs(2)) }, Task { try await scheduler.predict(inputs(3)) }]
        await waitUntil { scheduler.statistics.queued == 2 }
        do {
            _ = try await scheduler.predict(inputs(4))
            Issue.record("a full queue must refuse")
        } catch {
            #expect(error.code == .resourceExhausted)
        }
        #expect(scheduler.statistics.rejected == 1)
        for _ in 0..<2 { predictor.gate.signal() }
        _ = try await blocker.value
        for task in queued { _ = try await task.value }
        #expect(scheduler.statistics.engineCalls == 2)
        await scheduler.shutdown()
    }

    @Test func aRequestAtAFullQueueWaitsForAPlaceWithinTheAdmissionWait() async throws {
        let predictor = GatedPredictor(holds: true)
        let scheduler = try await startScheduler([predictor], batchSize: 1, queueSize: 1, admissionWait: .seconds(30))
        let blocker = await holdWorker(scheduler, predictor)
        let queued = Task { try await scheduler.predict(inputs(2)) }
        await waitUntil { scheduler.statistics.queued == 1 }
        // The queue is full: admission waits until the worker takes the queued request.
        let admitted = Task { try await scheduler.waitForAdmission(deadline: nil) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(scheduler.statistics.queued == 1)
        predictor.gate.signal()
        try await admitted.value
        let third = Task { try await scheduler.predict(inputs(3)) }
        for _ in 0..<2 { predictor.gate.signal() }
        _ = try await blocker.value
        #expect(try await queued.value == doubled(2))
        #expect(try await third.value == doubled(3))
        #expect(scheduler.statistics.rejected == 0)
        await scheduler.shutdown()
    }

    @Test func aRequestAtAFullQueueIsRefusedWhenNoPlaceOpensInTime() async throws {
        let predictor = GatedPredictor(holds: true)
        let scheduler = try await startScheduler([predictor], batchSize: 1, queueSize: 1, admissionWait: .milliseconds(200))
        let blocker = await holdWorker(scheduler, predictor)
        let queued = Task { try await scheduler.predict(inputs(2)) }
        await waitUntil { scheduler.statistics.queued == 1 }
        let started = ContinuousClock.now
        let error = await #expect(throws: DMSError.self) { try await scheduler.waitForAdmission(deadline: nil) }
        #expect(error?.code == .resourceExhausted)
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        // A deadline sooner than the wait ends the wait sooner.
        let soon = ContinuousClock.now
        await #expect(throws: DMSError.self) { try await scheduler.waitForAdmission(deadline: soon + .milliseconds(20)) }
        #expect(ContinuousClock.now - soon < .milliseconds(200))
        #expect(scheduler.statistics.rejected == 2)
        for _ in 0..<2 { predictor.gate.signal() }
        _ = try await blocker.value
        _ = try await queued.value
        // With room in the queue, admission is immediate.
        try await scheduler.waitForAdmission(deadline: nil)
        await scheduler.shutdown()
    }

    @Test func aQueuedRequestIsAnsweredAtItsDeadlineWithoutAnEngineCall() async throws {
        let predictor = GatedPredictor(holds: true)
        let scheduler = try await startScheduler([predictor])
        let blocker = await holdWorker(scheduler, predictor)
        // Answered while the worker is still held: the deadline does not wait for the queue.
        do {
            _ = try await scheduler.predict(inputs(2), deadline: .now + .milliseconds(50))
            Issue.record("an expired request must not run")
        } catch {
            #expect(error.code == .deadlineExceeded)
        }
        #expect(scheduler.statistics.expired == 1 && scheduler.statistics.queued == 0)
        predictor.gate.signal()
        _ = try await blocker.value
        #expect(predictor.calls.withLock { $0 } == [[100]])
        await scheduler.shutdown()
    }

    @Test func aRunningRequestIsAnsweredAtItsDeadline() async throws {
        let predictor = GatedPredictor(holds: true)
        let scheduler = try await startScheduler([predictor])
        do {
            _ = try await scheduler.predict(inputs(1), deadline: .now + .milliseconds(50))
            Issue.record("the deadline must answer a request the engine still runs")
        } catch {
            #expect(error.code == .deadlineExceeded)
        }
        predictor.gate.signal()
        await waitUntil { scheduler.statistics.running == 0 }
        #expect(scheduler.statistics.expired == 1 && scheduler.statistics.requests == 0)
        await scheduler.shutdown()
    }

    @Test func abandonedAndCancelledRequestsCostNoEngineCall() async throws {
        let predictor = GatedPredictor(holds: true)
        let scheduler = try await startScheduler([predictor])
        let blocker = await holdWorker(scheduler, predictor)
        let clientGone = Mutex(false)
        let abandoned = Task { try await scheduler.predict(inputs(1)) { clientGone.withLock { $0 } } }
        let cancelled = Task { try await scheduler.predict(inputs(2)) }
        await waitUntil { scheduler.statistics.queued == 2 }
        cancelled.cancel()
        await waitUntil { scheduler.statistics.queued == 1 }
        clientGone.withLock { $0 = true }
        predictor.gate.signal()
        _ = try await blocker.value
        await #expect(throws: (any Error).self) { try await abandoned.value }
        await #expect(throws: (any Error).self) { try await cancelled.value }
        #expect(scheduler.statistics.cancelled == 2)
        #expect(predictor.calls.withLock { $0 } == [[100]])
        await scheduler.shutdown()
    }

    @Test func shutdownFinishesQueuedRequestsThenRefusesNewOnes() async throws {
        let predictor = GatedPredictor(holds: true)
        let scheduler = try await startScheduler([predictor])
        let first = Task { try await scheduler.predict(inputs(1)) }
        await waitUntil { predictor.callCount == 1 }
        let second = Task { try await scheduler.predict(inputs(2)) }
        await waitUntil { scheduler.statistics.queued == 1 }
        let stopping = Task { await scheduler.shutdown() }
        try await Task.sleep(for: .milliseconds(20))
        predictor.gate.signal()
        predictor.gate.signal()
        #expect(try await first.value == doubled(1))
        #expect(try await second.value == doubled(2))
        await stopping.value
        await #expect(throws: DMSError.self) { try await scheduler.predict(inputs(3)) }
    }
}
