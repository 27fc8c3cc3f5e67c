import CoreMetrics
import DMSCore
import Synchronization

/// The models one server serves, by name, in the order they were added: every surface looks a
/// model up here for each request. Models can be added and removed while the server runs.
///
/// The registry only keeps the models; `ModelLoader` loads them.
public final class ModelRegistry: Sendable {
    private let entries = Mutex<[ServedModel]>([])
    /// Where each model's metrics go (`ModelMetrics`); nowhere by default.
    public let metricsFactory: any MetricsFactory

    public init(metricsFactory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.metricsFactory = metricsFactory
    }

    /// The models, in the order they were added.
    public var models: [ServedModel] { entries.withLock { $0 } }

    /// Adds a model, not yet loaded, under `spec.name`; an `.alreadyExists` error when the name
    /// is taken.
    @discardableResult
    public func add(_ spec: ModelSpec) throws(DMSError) -> ServedModel {
        let model = ServedModel(spec, metrics: ModelMetrics(model: spec.name, factory: metricsFactory))
        let added = entries.withLock { models in
            guard !models.contains(where: { $0.name == spec.name }) else { return false }
            models.append(model)
            return true
        }
        guard added else { throw DMSError(.alreadyExists, "a model named '\(spec.name)' is already registered") }
        return model
    }

    /// The model named `name`, or a `.notFound` error listing the models this server serves.
    public func requireModel(named name: String) throws(DMSError) -> ServedModel {
        let (model, names) = entries.withLock { models in (models.first { $0.name == name }, models.map(\.name)) }
        guard let model else {
            let serving = names.isEmpty ? "this server serves no model" : "this server serves \(names.joined(separator: ", "))"
            throw DMSError(.notFound, "no model named '\(name)'; \(serving)")
        }
        return model
    }

    /// Removes the model named `name`: requests that come after are answered as for an unknown
    /// model, the requests it accepted before are answered, then its workers stop and its
    /// engine memory is freed. A model still loading is stopped once its loading ends.
    public func remove(named name: String) async throws(DMSError) {
        let model = try requireModel(named: name)
        entries.withLock { models in models.removeAll { $0 === model } }
        await model.beginUnloading()?.shutdown()
    }

    /// Answers one prediction request with the model named `modelName` (see
    /// `ServedModel.Loaded.predict`); `.notFound` for an unknown model, `.unavailable` for one
    /// that is not ready.
    public func predict(
        modelName: String, request: PredictionRequest, deadline: ContinuousClock.Instant? = nil, clientGone: (@Sendable () -> Bool)? = nil
    ) async throws(DMSError) -> PredictionResponse {
        let model = try requireModel(named: modelName)
        return try await model.requireReady().predict(request, deadline: deadline, clientGone: clientGone, metrics: model.metrics)
    }

    /// Before a request's body is read: when the model's queue is full, waits a little for a
    /// place (`ModelScheduler.waitForAdmission`) and refuses the request if none opens. A model
    /// that is not ready is let through: `predict` gives the reason.
    public func waitForAdmission(modelName: String, deadline: ContinuousClock.Instant? = nil) async throws(DMSError) {
        try await requireModel(named: modelName).readyModel?.scheduler.waitForAdmission(deadline: deadline)
    }

    /// Stops every model's workers after its queued requests and releases the engines' models.
    /// The models stay listed, as unloading, for the surfaces still answering.
    public func unloadAll() async {
        for model in models {
            await model.beginUnloading()?.shutdown()
        }
    }
}
