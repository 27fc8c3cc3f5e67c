import DMSCore
import Foundation
import Synchronization
import Testing

@testable import DMSRuntime

/// A stand-in predictor for scheduling tests only (end-to-end tests use the real engines): it
/// echoes its input, records the order of calls, and can hold each call (on the worker's own
/// thread) until the test signals `gate`.
private final class GatedPredictor: ModelPredictor, @unchecked Sendable {
    let description = PredictorDescription(outputNames: ["y"], outputActivation: .none)
    let calls = Mutex<[Float]>([])
    let gate = DispatchSemaphore(value: 0)
    let holds: Bool

    init(holds: Bool) { self.holds = holds }

    func predict(_ inputs: [Tensor]) throws(DMSError) -> [Tensor] {
        let value = inputs[0].floats[0]
        calls.withLock { $0.append(value) }
        if holds {
            gate.wait()
        }
        if value < 0 { throw DMSError(.engineFailure, "negative input") }
        return inputs
    }
}

private func tensor(_ value: Float) -> Tensor { Tensor(shape: [1, 1], floats: [value]) }

private func waitUntil(_ condition: @escaping @Sendable () -> Bool) async {
    for _ in 0..<500 where !condition() { try? await Task.sleep(for: .milliseconds(10)) }
}

// Serialized, and no test blocks a thread: the cooperative pool is as wide as the machine (2).
@Suite("model worker scheduling", .serialized)
struct ModelWorkerTests {
    @Test func answersInArrivalOrderAndPropagatesEngineErrors() async throws {
        let predictor = GatedPredictor(holds: false)
        let worker = ModelWorker(name: "m", predictor: predictor)
        for value in [1, 2, 3] as [Float] {
            #expect(try await worker.predict([tensor(value)]) == [tensor(value)])
        }
        await #expect(throws: DMSError.self) { try await worker.predict([tensor(-1)]) }
        #expect(predictor.calls.withLock { $0 } == [1, 2, 3, -1])
        #expect(worker.statistics.engineCalls == 4)
        await worker.shutdown()
    }

    @Test func fullQueueIsRefusedAtOnce() async throws {
        let predictor = GatedPredictor(holds: true)
        let worker = ModelWorker(name: "m", predictor: predictor, maxQueuedRequests: 2)
        let first = Task { try await worker.predict([tensor(1)]) }
        await waitUntil { predictor.calls.withLock { $0.count } == 1 }
        let queued = [Task { try await worker.predict([tensor(2)]) }, Task { try await worker.predict([tensor(3)]) }]
        await waitUntil { worker.queuedCount == 2 }
        do {
            _ = try await worker.predict([tensor(4)])
            Issue.record("a full queue must refuse")
        } catch {
            #expect(error.code == .resourceExhausted)
        }
        #expect(worker.statistics.rejected == 1)
        for _ in 0..<3 { predictor.gate.signal() }
        _ = try await first.value
        for task in queued { _ = try await task.value }
        #expect(worker.statistics.engineCalls == 3)
        await worker.shutdown()
    }

    @Test func expiredRequestsAreAnsweredWithoutAnEngineCall() async throws {
        let predictor = GatedPredictor(holds: true)
        let worker = ModelWorker(name: "m", predictor: predictor)
        let first = Task { try await worker.predict([tensor(1)]) }
        await waitUntil { predictor.calls.withLock { $0.count } == 1 }
        let late = Task { try await worker.predict([tensor(2)], deadline: .now + .milliseconds(1)) }
        try await Task.sleep(for: .milliseconds(20))
        predictor.gate.signal()
        _ = try await first.value
        do {
            _ = try await late.value
            Issue.record("an expired request must not run")
        } catch let error as DMSError {
            #expect(error.code == .deadlineExceeded)
        }
        #expect(worker.statistics == .init(engineCalls: 1, rejected: 0, expired: 1))
        #expect(predictor.calls.withLock { $0 } == [1])
        await worker.shutdown()
    }

    @Test func shutdownFinishesQueuedRequestsThenRefusesNewOnes() async throws {
        let predictor = GatedPredictor(holds: true)
        let worker = ModelWorker(name: "m", predictor: predictor)
        let first = Task { try await worker.predict([tensor(1)]) }
        await waitUntil { predictor.calls.withLock { $0.count } == 1 }
        let second = Task { try await worker.predict([tensor(2)]) }
        await waitUntil { worker.queuedCount == 1 }
        let stopping = Task { await worker.shutdown() }
        await waitUntil { worker.isStopping }
        predictor.gate.signal()
        predictor.gate.signal()
        #expect(try await first.value == [tensor(1)])
        #expect(try await second.value == [tensor(2)])
        await stopping.value
        await #expect(throws: DMSError.self) { try await worker.predict([tensor(3)]) }
    }
}
