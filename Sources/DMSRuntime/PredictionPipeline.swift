import DMSCore

/// The steps of every prediction, in one place for every caller: the server's surfaces, the
/// benchmark's engine floor (`deep-model-bench floor`) and the coming Python services.
///
/// 1. `prepare`: the model's service turns the request into input descriptions (cheap checks;
///    images are decoded later, straight into the batch) and the signature checks their shapes
///    before any engine sees them;
/// 2. `run(_:on:)`: a worker lays the prepared inputs of one or more requests into one batch,
///    runs the engine once and splits the outputs back per request;
/// 3. `respond`: the service makes each request's response from its share of the outputs.
///
/// Steps 1 and 3 run on the request's task (a service moves heavy work to `BlockingWork`'s
/// threads itself, and a Python service waits for its worker process there); step 2 runs on the
/// model's worker thread (see `ModelScheduler`).
public struct PredictionPipeline: Sendable {
    public let signature: ModelSignature
    public let service: any ModelService

    public init(signature: ModelSignature, service: any ModelService) {
        self.signature = signature
        self.service = service
    }

    /// The request's inputs, checked against the signature.
    public func prepare(_ request: PredictionRequest) async throws(DMSError) -> PreparedInputs {
        let inputs = try await service.prepare(request)
        try signature.validate(inputs: inputs)
        return inputs
    }

    /// The response to `request` for its share of the outputs.
    public func respond(to request: PredictionRequest, with outputs: [Tensor]) async throws(DMSError) -> PredictionResponse {
        try await service.postprocess(outputs, for: request)
    }

    /// Runs the prepared inputs of several requests as one engine call on `predictor` and
    /// returns each request's share of the outputs, or its error, in the order given. A request
    /// whose inputs cannot be written (an image that turns out damaged) fails alone; an engine
    /// error fails every request of the call. `engineCallStarting` is told the batch's rows just
    /// before the engine runs, `engineCallEnded` right after it returns.
    public static func run(
        _ batch: [PreparedInputs], on predictor: any ModelPredictor, engineCallStarting: (_ rows: Int) -> Void = { _ in },
        engineCallEnded: () -> Void = {}
    ) -> [Result<[Tensor], DMSError>] {
        var results = [Result<[Tensor], DMSError>](repeating: .failure(DMSError(.internalError, "no result for a request")), count: batch.count)
        let (assembled, failures) = InputBatch.assemble(batch)
        for failure in failures { results[failure.index] = .failure(failure.error) }
        guard let assembled else { return results }
        engineCallStarting(assembled.rowCount)
        do throws(DMSError) {
            let outputs = try predictor.predict(assembled.tensors)
            engineCallEnded()
            let shares = try assembled.split(outputs)
            for (member, share) in zip(assembled.members, shares) { results[member.index] = .success(share) }
        } catch {
            for member in assembled.members { results[member.index] = .failure(error) }
        }
        return results
    }
}
