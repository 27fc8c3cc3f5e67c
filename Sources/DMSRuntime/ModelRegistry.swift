import CoreMetrics
import DMSCore
import Synchronization

/// The models one server serves, by name, in the order they were added: every surface looks a
/// model up here for each request. Models can be added and removed while the server runs.
///
/// A model registered while the server runs (`reserve`) stays out of sight of the serving
/// surfaces until it is ready (`publish`): until then only its name is taken, so no request
/// meets it half-loaded, `/ping` and readiness do not change, and a registration that fails
/// (`withdraw`) leaves the served models exactly as they were.
///
/// The registry only keeps the models; `ModelLoader` loads them.
public final class ModelRegistry: Sendable {
    private struct Entries {
        /// The models the surfaces serve, in the order they were added.
        var served: [ServedModel] = []
        /// Models being registered, not served yet.
        var pending: [ServedModel] = []
        /// The reasons of the latest registrations that failed in the background, by name
        /// (at most `failureMemory`; a new registration of the name clears its entry).
        var failedRegistrations: [(name: String, reason: String)] = []
        /// Models unloaded through the repository extension, to be loaded again by name: in the
        /// order they were unloaded, each name once, none of them served.
        var unloaded: [ModelSpec] = []

        func contains(_ name: String) -> Bool {
            served.contains { $0.name == name } || pending.contains { $0.name == name }
        }

        /// Takes the model named `name` out of the served or pending ones; its metrics go now,
        /// so that a model registered again under this name makes them anew.
        mutating func take(_ name: String) -> ServedModel? {
            guard let model = served.first(where: { $0.name == name }) ?? pending.first(where: { $0.name == name }) else { return nil }
            served.removeAll { $0 === model }
            pending.removeAll { $0 === model }
            model.metrics.destroy()
            return model
        }
    }

    private static let failureMemory = 100
    private let entries = Mutex(Entries())
    /// Where each model's metrics go (`ModelMetrics`); nowhere by default.
    public let metricsFactory: any MetricsFactory

    public init(metricsFactory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.metricsFactory = metricsFactory
    }

    /// The models served, in the order they were added.
    public var models: [ServedModel] { entries.withLock { $0.served } }

    /// The models served, then those being registered.
    public var modelsIncludingPending: [(model: ServedModel, pending: Bool)] {
        entries.withLock { $0.served.map { ($0, false) } + $0.pending.map { ($0, true) } }
    }

    /// The registrations that failed in the background, oldest first, with their load errors.
    public var failedRegistrations: [(name: String, reason: String)] { entries.withLock { $0.failedRegistrations } }

    /// The models unloaded (`unload`) and not served again, in the order they were unloaded.
    public var unloadedModels: [ModelSpec] { entries.withLock { $0.unloaded } }

    /// Adds a model, not yet loaded, under `spec.name` to the models served (a model named on
    /// the command line: the server is not ready until it is); an `.alreadyExists` error when
    /// the name is taken.
    @discardableResult
    public func add(_ spec: ModelSpec) throws(DMSError) -> ServedModel {
        try insert(spec, pending: false)
    }

    /// Takes `spec.name` for a model registered while the server runs, without serving it;
    /// `publish` serves it once ready, `withdraw` gives the name back. An `.alreadyExists` error
    /// when the name is taken.
    public func reserve(_ spec: ModelSpec) throws(DMSError) -> ServedModel {
        try insert(spec, pending: true)
    }

    private func insert(_ spec: ModelSpec, pending: Bool) throws(DMSError) -> ServedModel {
        let model = ServedModel(spec, metrics: ModelMetrics(model: spec.name, factory: metricsFactory))
        let added = entries.withLock { entries in
            guard !entries.contains(spec.name) else { return false }
            if pending {
                entries.pending.append(model)
            } else {
                entries.served.append(model)
                entries.unloaded.removeAll { $0.name == spec.name }
            }
            entries.failedRegistrations.removeAll { $0.name == spec.name }
            return true
        }
        guard added else {
            model.metrics.destroy()
            throw DMSError(.alreadyExists, "a model named '\(spec.name)' is already registered")
        }
        return model
    }

    /// Serves a reserved model (which supersedes an unloaded one of its name). False when it
    /// was unregistered meanwhile.
    func publish(_ model: ServedModel) -> Bool {
        entries.withLock { entries in
            guard let index = entries.pending.firstIndex(where: { $0 === model }) else { return false }
            entries.served.append(entries.pending.remove(at: index))
            entries.unloaded.removeAll { $0.name == model.name }
            return true
        }
    }

    /// Gives back the name of a reserved model whose registration failed; `reason`, when given,
    /// is remembered for `failedRegistrations` (a registration in the background has no caller
    /// to tell).
    func withdraw(_ model: ServedModel, reason: String? = nil) {
        entries.withLock { entries in
            guard let index = entries.pending.firstIndex(where: { $0 === model }) else { return }
            entries.pending.remove(at: index)
            model.metrics.destroy()
            if let reason {
                entries.failedRegistrations.append((model.name, reason))
                entries.failedRegistrations.removeFirst(max(0, entries.failedRegistrations.count - Self.failureMemory))
            }
        }
    }

    /// The model named `name`, served or being registered; `.notFound` otherwise, with the
    /// reason when its registration failed.
    public func requireModelIncludingPending(named name: String) throws(DMSError) -> ServedModel {
        let (model, failure) = entries.withLock { entries in
            (
                entries.served.first { $0.name == name } ?? entries.pending.first { $0.name == name },
                entries.failedRegistrations.last { $0.name == name }?.reason
            )
        }
        if let model { return model }
        if let failure { throw DMSError(.notFound, "no model named '\(name)'; its registration failed: \(failure)") }
        throw DMSError(.notFound, "no model named '\(name)'")
    }

    /// The model named `name`, or a `.notFound` error listing the models this server serves.
    public func requireModel(named name: String) throws(DMSError) -> ServedModel {
        guard let model = entries.withLock({ $0.served.first { $0.name == name } }) else {
            let names = models.map(\.name)
            let serving = names.isEmpty ? "this server serves no model" : "this server serves \(names.joined(separator: ", "))"
            throw DMSError(.notFound, "no model named '\(name)'; \(serving)")
        }
        return model
    }

    /// Removes the model named `name`, served, being registered or unloaded: requests that
    /// come after are answered as for an unknown model and its metrics go, the requests it
    /// accepted before are answered, then its workers stop and its engine memory is freed. A
    /// model still loading is stopped once its loading ends.
    public func remove(named name: String) async throws(DMSError) {
        let model = try entries.withLock { entries throws(DMSError) in
            let wasUnloaded = entries.unloaded.contains { $0.name == name }
            entries.unloaded.removeAll { $0.name == name }
            guard let model = entries.take(name) else {
                if wasUnloaded { return nil as ServedModel? }
                throw DMSError(.notFound, "no model named '\(name)'")
            }
            return model
        }
        await model?.beginUnloading()?.shutdown()
    }

    /// Removes the model named `name` as `remove` does, but keeps its location and the
    /// scheduling settings in effect among `unloadedModels`, to be registered again by name
    /// (the repository extension's unload). In one step, so that the name is never in neither
    /// place.
    public func unload(named name: String) async throws(DMSError) {
        let model = try entries.withLock { entries throws(DMSError) in
            guard let model = entries.take(name) else { throw DMSError(.notFound, "no model named '\(name)'") }
            let settings = model.readyModel?.scheduler.settings ?? model.requestedSettings
            entries.unloaded.removeAll { $0.name == name }
            entries.unloaded.append(ModelSpec(name: name, location: model.location, settings: settings))
            return model
        }
        await model.beginUnloading()?.shutdown()
    }

    /// Answers one prediction request with the model named `modelName` (see
    /// `ServedModel.Loaded.predict`); `.notFound` for an unknown model, `.unavailable` for one
    /// that is not ready.
    public func predict(
        modelName: String, request: PredictionRequest, deadline: ContinuousClock.Instant? = nil, clientGone: (@Sendable () -> Bool)? = nil
    ) async throws(DMSError) -> PredictionResponse {
        try await requireModel(named: modelName).predict(request, deadline: deadline, clientGone: clientGone)
    }

    /// `ServedModel.waitForAdmission` of the model named `modelName`; `.notFound` for an unknown
    /// model.
    public func waitForAdmission(modelName: String, deadline: ContinuousClock.Instant? = nil) async throws(DMSError) {
        try await requireModel(named: modelName).waitForAdmission(deadline: deadline)
    }

    /// Stops every model's workers after its queued requests and releases the engines' models,
    /// and stops the registrations under way. The models stay listed, as unloading, for the
    /// surfaces still answering.
    public func unloadAll() async {
        for (model, _) in modelsIncludingPending {
            await model.beginUnloading()?.shutdown()
        }
    }
}
