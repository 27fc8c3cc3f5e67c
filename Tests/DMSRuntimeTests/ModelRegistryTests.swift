import AsyncHTTPClient
import DMSCore
import DMSModelStore
import Foundation
import Logging
import Synchronization
import Testing

@testable import DMSRuntime

/// What a test sees of its `HeldPredictor`: the gate that lets each call finish, the calls
/// running, and whether the scheduler has released the predictor.
private final class PredictorProbe: Sendable {
    let gate = DispatchSemaphore(value: 0)
    let running = Mutex(0)
    let released = Mutex(false)
}

/// A stand-in predictor for the registry's lifecycle tests only (end-to-end tests use the real
/// engines): it doubles its input, holding each call until its probe's gate is signalled.
private final class HeldPredictor: ModelPredictor, Sendable {
    let description = PredictorDescription(outputNames: ["y"], outputActivation: .none)
    let probe: PredictorProbe

    init(_ probe: PredictorProbe) { self.probe = probe }

    deinit { probe.released.withLock { $0 = true } }

    func predict(_ inputs: [Tensor]) throws(DMSError) -> [Tensor] {
        probe.running.withLock { $0 += 1 }
        probe.gate.wait()
        return [Tensor(shape: inputs[0].shape, floats: inputs[0].floats.map { $0 * 2 })]
    }
}

/// A service reading each request's one part as a number and answering the model's output.
private struct NumberService: ModelService {
    func prepare(_ request: PredictionRequest) throws(DMSError) -> PreparedInputs {
        guard let value = Float(String(decoding: request.parts[0].bytes, as: UTF8.self)) else {
            throw DMSError(.invalidInput, "not a number")
        }
        return PreparedInputs(tensors: [Tensor(shape: [1, 1], floats: [value])])
    }

    func postprocess(_ outputs: [Tensor], for request: PredictionRequest) throws(DMSError) -> PredictionResponse {
        .json(.number(Double(outputs[0].floats[0])))
    }
}

private let signature = try! ModelSignature(
    inputs: [.init(name: "x", shape: [0, 1])], inputType: .json, outputs: [.init(name: "y", shape: [0, 1])], outputType: .json)

private func spec(_ name: String) -> ModelSpec {
    ModelSpec(name: name, location: .file(URL(fileURLWithPath: "/nowhere/\(name).model")))
}

private func number(_ value: String) -> PredictionRequest {
    PredictionRequest(parts: [PredictionRequest.Part(name: "input0", bytes: Array(value.utf8), isFile: false)])
}

/// What `ModelLoader` would make of a model run by one worker with a `HeldPredictor`.
private func loadByHand(_ name: String, probe: PredictorProbe) async throws -> ServedModel.Loaded {
    let scheduler = try await ModelScheduler.start(name: name, settings: .init(), batchable: true) { () throws(DMSError) in
        HeldPredictor(probe)
    }
    let artifacts = ModelArtifacts(
        directory: URL(fileURLWithPath: "/nowhere"), signature: signature, engineFiles: .init(format: "test", files: [:]), labels: nil,
        manifestService: nil)
    return ServedModel.Loaded(
        artifacts: artifacts, pipeline: PredictionPipeline(signature: signature, service: NumberService()), scheduler: scheduler,
        engineName: "test"
    ) { _ throws(DMSError) in HeldPredictor(probe) }
}

private func waitUntil(_ condition: @escaping @Sendable () -> Bool) async {
    for _ in 0..<500 where !condition() { try? await Task.sleep(for: .milliseconds(10)) }
}

@Suite("model registry", .serialized)
struct ModelRegistryTests {
    @Test func keepsModelsInOrderAndRefusesATakenName() throws {
        let registry = ModelRegistry()
        try registry.add(spec("a"))
        try registry.add(spec("b"))
        #expect(registry.models.map(\.name) == ["a", "b"])
        #expect { try registry.add(spec("a")) } throws: { ($0 as? DMSError)?.code == .alreadyExists }
        #expect(registry.models.map(\.name) == ["a", "b"])
        #expect { try registry.requireModel(named: "c") } throws: {
            ($0 as? DMSError)?.code == .notFound && ($0 as? DMSError)?.message.contains("this server serves a, b") == true
        }
    }

    @Test func removingAReadyModelAnswersWhatItAcceptedThenFreesIt() async throws {
        let registry = ModelRegistry()
        let model = try registry.add(spec("m"))
        let probe = PredictorProbe()
        #expect(model.markReady(try await loadByHand("m", probe: probe)))
        let inFlight = Task { try await registry.predict(modelName: "m", request: number("3")) }
        await waitUntil { probe.running.withLock { $0 } == 1 }

        let removal = Task { try await registry.remove(named: "m") }
        await waitUntil { registry.models.isEmpty }
        await #expect { try await registry.predict(modelName: "m", request: number("4")) } throws: { ($0 as? DMSError)?.code == .notFound }
        #expect(model.state == .unloading)
        #expect(!probe.released.withLock { $0 })

        probe.gate.signal()
        #expect(try await inFlight.value == .json(.number(6)))
        try await removal.value
        #expect(probe.released.withLock { $0 })
        // The name is free again.
        try registry.add(spec("m"))
    }

    @Test func aModelRemovedWhileLoadingIsNeverMadeReady() async throws {
        let registry = ModelRegistry()
        let model = try registry.add(spec("m"))
        try await registry.remove(named: "m")
        #expect(model.state == .unloading)
        let loaded = try await loadByHand("m", probe: PredictorProbe())
        #expect(!model.markReady(loaded))
        model.markFailed("late")
        #expect(model.state == .unloading)
        await loaded.scheduler.shutdown()
    }

    @Test func aFailedRegistrationLeavesTheRegistryAsItWas() async throws {
        let registry = ModelRegistry()
        try registry.add(spec("a"))
        let store = ModelStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("dms-registry-\(UUID().uuidString)"))
        let loader = ModelLoader(store: store, engines: [], requestedService: nil) { _, _, _, _ throws(DMSError) in NumberService() }
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        await #expect { try await loader.register(spec("b"), in: registry, httpClient: httpClient, logger: Logger(label: "test")) } throws: {
            ($0 as? DMSError)?.message.contains("/nowhere/b.model: no such file") == true
        }
        #expect(registry.models.map(\.name) == ["a"])
        await #expect { try await loader.register(spec("a"), in: registry, httpClient: httpClient, logger: Logger(label: "test")) } throws: {
            ($0 as? DMSError)?.code == .alreadyExists
        }
        #expect(registry.models.map(\.name) == ["a"])
        #expect(registry.models[0].state == .loading)
        try await httpClient.shutdown()
    }

    @Test func anUnloadedModelIsKeptByNameUntilRegisteredAgainOrRemoved() async throws {
        let registry = ModelRegistry()
        try registry.add(spec("a"))
        try registry.add(spec("b"))
        try await registry.unload(named: "a")
        #expect(registry.models.map(\.name) == ["b"])
        #expect(registry.unloadedModels == [spec("a")])
        // Registered again: the new model supersedes the unloaded one once it is served.
        let again = try registry.reserve(spec("a"))
        #expect(registry.unloadedModels.map(\.name) == ["a"])
        #expect(registry.publish(again))
        #expect(registry.unloadedModels.isEmpty)
        // Removing an unloaded model forgets it.
        try await registry.unload(named: "b")
        try await registry.remove(named: "b")
        #expect(registry.unloadedModels.isEmpty)
        await #expect { try await registry.remove(named: "b") } throws: { ($0 as? DMSError)?.code == .notFound }
        await #expect { try await registry.unload(named: "b") } throws: { ($0 as? DMSError)?.code == .notFound }
    }

    @Test func theRepositoryIndexListsEveryKnownModelOnce() async throws {
        let registry = ModelRegistry()
        try registry.add(spec("a"))
        _ = try registry.reserve(spec("b"))
        try registry.add(spec("c"))
        try await registry.unload(named: "c")
        let repository = ModelRepository(registry: registry, control: nil)
        #expect(repository.index(readyOnly: false).map { "\($0.name):\($0.state):\($0.reason)" } == ["a:LOADING:", "b:LOADING:", "c:UNAVAILABLE:unloaded"])
        #expect(repository.index(readyOnly: true).isEmpty)
        await #expect { try await repository.unload("a", logger: Logger(label: "test")) } throws: { ($0 as? DMSError)?.code == .permissionDenied }
        await #expect { try await repository.load("c", logger: Logger(label: "test")) } throws: { ($0 as? DMSError)?.code == .permissionDenied }
    }

    @Test func aReservedModelIsServedOnlyOncePublished() async throws {
        let registry = ModelRegistry()
        try registry.add(spec("a"))
        let model = try registry.reserve(spec("b"))
        #expect(registry.models.map(\.name) == ["a"])
        #expect(registry.modelsIncludingPending.map { "\($0.model.name):\($0.pending)" } == ["a:false", "b:true"])
        #expect { try registry.requireModel(named: "b") } throws: { ($0 as? DMSError)?.code == .notFound }
        #expect { try registry.reserve(spec("b")) } throws: { ($0 as? DMSError)?.code == .alreadyExists }
        #expect { try registry.add(spec("b")) } throws: { ($0 as? DMSError)?.code == .alreadyExists }
        #expect(try registry.requireModelIncludingPending(named: "b") === model)
        #expect(registry.publish(model))
        #expect(registry.models.map(\.name) == ["a", "b"])
        #expect(!registry.publish(model))
    }

    @Test func aWithdrawnRegistrationIsRememberedUntilTheNameIsUsedAgain() throws {
        let registry = ModelRegistry()
        let model = try registry.reserve(spec("b"))
        registry.withdraw(model, reason: "broken archive")
        #expect(registry.modelsIncludingPending.isEmpty)
        #expect(registry.failedRegistrations.map(\.name) == ["b"])
        #expect { try registry.requireModelIncludingPending(named: "b") } throws: {
            ($0 as? DMSError)?.code == .notFound && ($0 as? DMSError)?.message.contains("its registration failed: broken archive") == true
        }
        try registry.reserve(spec("b"))
        #expect(registry.failedRegistrations.isEmpty)
    }

    @Test func aModelUnregisteredWhileReservedIsNeverPublished() async throws {
        let registry = ModelRegistry()
        let model = try registry.reserve(spec("b"))
        try await registry.remove(named: "b")
        #expect(!registry.publish(model))
        #expect(registry.modelsIncludingPending.isEmpty)
    }

    @Test func changingSettingsUnderLoadLosesNoRequestAndKeepsTheCounters() async throws {
        let registry = ModelRegistry()
        let model = try registry.add(spec("m"))
        let probe = PredictorProbe()
        #expect(model.markReady(try await loadByHand("m", probe: probe)))
        // One request in the engine, two queued behind it on the old workers.
        let early = (1...3).map { value in Task { try await registry.predict(modelName: "m", request: number("\(value)")) } }
        await waitUntil { probe.running.withLock { $0 } == 1 && model.readyModel?.scheduler.statistics.queued == 2 }
        let old = try #require(model.readyModel?.scheduler)

        let change = Task { try await model.reconfigure(.init(workers: 2, maxBatchSize: 1, queueSize: 7)) }
        await waitUntil { model.readyModel?.scheduler !== old }
        #expect(model.readyModel?.scheduler.settings.workers == 2)
        #expect(model.readyModel?.scheduler.settings.queueSize == 7)
        await #expect { try await model.reconfigure(.init()) } throws: { ($0 as? DMSError)?.code == .conflict }
        // New requests go to the new workers while the old ones still hold theirs.
        let late = (4...5).map { value in Task { try await registry.predict(modelName: "m", request: number("\(value)")) } }
        await waitUntil { probe.running.withLock { $0 } == 3 }
        for _ in 0..<5 { probe.gate.signal() }
        let answers = try await (early + late).asyncMap { try await $0.value }
        #expect(answers == [2, 4, 6, 8, 10].map { PredictionResponse.json(.number($0)) })
        let settings = try await change.value
        #expect(settings.workers == 2 && settings.maxBatchSize == 1)
        let statistics = try #require(model.readyModel?.scheduler.statistics)
        #expect(statistics.requests == 5)
        // Every engine call, on the old workers and the new, is counted once.
        #expect(statistics.engineCalls == probe.running.withLock { $0 })
    }

    @Test func onlyAReadyModelCanBeReconfigured() async throws {
        let registry = ModelRegistry()
        let model = try registry.add(spec("m"))
        await #expect { try await model.reconfigure(.init()) } throws: { ($0 as? DMSError)?.code == .unavailable }
    }
}

extension Array {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
