import DMSCore
import DMSRuntime
import Foundation
import GRPCCore
import Logging

/// `inference.GRPCInferenceService`: the Open Inference Protocol over gRPC, in front of the same
/// registry, queues and batches as the REST surfaces. What it says and how it infers is decided
/// in `OpenInference`; this type only reads and writes the protocol's messages.
///
/// Readiness that is false is an answer (`ready: false`), not an error. Errors are statuses
/// mapped from the domain error by `RPCError.init(_: DMSError)`. A `grpc-timeout` the client
/// sets becomes the request's deadline in the model's scheduler: a request still queued when it
/// passes is answered DEADLINE_EXCEEDED without an engine call.
struct OpenInferenceGRPCService: Inference_GRPCInferenceService.ServiceProtocol {
    let registry: ModelRegistry
    let repository: ModelRepository
    let limits: TensorJSON.Limits
    let logger: Logger

    func serverLive(
        request: ServerRequest<Inference_ServerLiveRequest>, context: ServerContext
    ) async throws -> ServerResponse<Inference_ServerLiveResponse> {
        ServerResponse(message: .with { $0.live = true })
    }

    func serverReady(
        request: ServerRequest<Inference_ServerReadyRequest>, context: ServerContext
    ) async throws -> ServerResponse<Inference_ServerReadyResponse> {
        ServerResponse(message: .with { $0.ready = OpenInference.serverReady(registry) })
    }

    /// `ready: false` for an unknown model or version too, as Triton answers (tritonclient's
    /// `is_model_ready` then says False, as over REST).
    func modelReady(
        request: ServerRequest<Inference_ModelReadyRequest>, context: ServerContext
    ) async throws -> ServerResponse<Inference_ModelReadyResponse> {
        let model = try? OpenInference.model(named: request.message.name, version: request.message.version, in: registry)
        return ServerResponse(message: .with { $0.ready = model?.state == .ready })
    }

    func serverMetadata(
        request: ServerRequest<Inference_ServerMetadataRequest>, context: ServerContext
    ) async throws -> ServerResponse<Inference_ServerMetadataResponse> {
        ServerResponse(message: .with {
            $0.name = OpenInference.serverName
            $0.version = ServerVersion.current
            $0.extensions = OpenInference.extensions
        })
    }

    func modelMetadata(
        request: ServerRequest<Inference_ModelMetadataRequest>, context: ServerContext
    ) async throws -> ServerResponse<Inference_ModelMetadataResponse> {
        try answer { () throws(DMSError) in
            let model = try OpenInference.model(named: request.message.name, version: request.message.version, in: registry)
            let metadata = try OpenInference.metadata(of: model)
            func tensors(_ tensors: [OpenInference.TensorMetadata]) -> [Inference_ModelMetadataResponse.TensorMetadata] {
                tensors.map { tensor in
                    .with {
                        $0.name = tensor.name
                        $0.datatype = tensor.datatype
                        $0.shape = tensor.shape
                    }
                }
            }
            return .with {
                $0.name = metadata.name
                $0.versions = metadata.versions
                $0.platform = metadata.platform
                $0.inputs = tensors(metadata.inputs)
                $0.outputs = tensors(metadata.outputs)
            }
        }
    }

    func modelInfer(
        request: ServerRequest<Inference_ModelInferRequest>, context: ServerContext
    ) async throws -> ServerResponse<Inference_ModelInferResponse> {
        let arrival = ContinuousClock.now
        let message = request.message
        let deadline = GRPCTimeout.duration(request.metadata[stringValues: "grpc-timeout"].first { _ in true }).map { arrival + $0 }
        let limits = limits
        do {
            // An unknown model or version is not counted: the metrics' labels stay the models served.
            let model = try OpenInference.model(named: message.modelName, version: message.modelVersion, in: registry)
            return try await model.countingRequest { () throws(DMSError) in
                try await model.waitForAdmission(deadline: deadline)
                let rawBytes = message.rawInputContents.reduce(0) { $0 + $1.count }
                let decoded = try await BlockingWork.run(isHeavy: rawBytes >= BlockingWork.thresholdBytes) { () throws(DMSError) in
                    try InferMessage(message, limits: limits)
                }
                let cancellation = context.cancellation
                let outputs = try await OpenInference.infer(
                    decoded.request, outputs: decoded.outputs, model: model,
                    deadline: OpenInference.deadline(deadline, timeoutMicroseconds: decoded.timeoutMicroseconds, from: arrival),
                    clientGone: { cancellation.isCancelled })
                return ServerResponse(message: Inference_ModelInferResponse(modelName: model.name, id: message.id, outputs: outputs))
            }
        } catch {
            throw RPCError(error)
        }
    }

    func modelConfig(
        request: ServerRequest<Inference_ModelConfigRequest>, context: ServerContext
    ) async throws -> ServerResponse<Inference_ModelConfigResponse> {
        try answer { () throws(DMSError) in
            let model = try OpenInference.model(named: request.message.name, version: request.message.version, in: registry)
            let configuration = try OpenInference.configuration(of: model)
            return .with {
                $0.config = .with {
                    $0.name = configuration.name
                    $0.platform = configuration.platform
                    $0.maxBatchSize = Int32(clamping: configuration.maxBatchSize)
                    $0.input = configuration.inputs.map { tensor in
                        .with {
                            $0.name = tensor.name
                            $0.dataType = Inference_DataType(tensor.dataType)
                            $0.dims = tensor.dims
                        }
                    }
                    $0.output = configuration.outputs.map { tensor in
                        .with {
                            $0.name = tensor.name
                            $0.dataType = Inference_DataType(tensor.dataType)
                            $0.dims = tensor.dims
                        }
                    }
                }
            }
        }
    }

    /// Every ready model's statistics when the request names no model, else that model's
    /// (UNAVAILABLE when it is not ready).
    func modelStatistics(
        request: ServerRequest<Inference_ModelStatisticsRequest>, context: ServerContext
    ) async throws -> ServerResponse<Inference_ModelStatisticsResponse> {
        try answer { () throws(DMSError) in
            let statistics: [OpenInference.ModelStatistics]
            if request.message.name.isEmpty {
                statistics = registry.models.compactMap { OpenInference.statistics(of: $0) }
            } else {
                let model = try OpenInference.model(named: request.message.name, version: request.message.version, in: registry)
                guard let entry = OpenInference.statistics(of: model) else { throw DMSError(.unavailable, "model '\(model.name)' is not ready") }
                statistics = [entry]
            }
            return .with { $0.modelStats = statistics.map(Inference_ModelStatistics.init) }
        }
    }

    /// The repository extension's index: every model the server knows (`ModelRepository`).
    func repositoryIndex(
        request: ServerRequest<Inference_RepositoryIndexRequest>, context: ServerContext
    ) async throws -> ServerResponse<Inference_RepositoryIndexResponse> {
        let entries = repository.index(readyOnly: request.message.ready)
        return ServerResponse(message: .with {
            $0.models = entries.map { entry in
                .with {
                    $0.name = entry.name
                    $0.version = entry.version
                    $0.state = entry.state
                    $0.reason = entry.reason
                }
            }
        })
    }

    /// Loads an unloaded model again (PERMISSION_DENIED without --allow-model-control).
    func repositoryModelLoad(
        request: ServerRequest<Inference_RepositoryModelLoadRequest>, context: ServerContext
    ) async throws -> ServerResponse<Inference_RepositoryModelLoadResponse> {
        do {
            try OpenInference.refuseRepositoryParameters(Array(request.message.parameters.keys))
            try await repository.load(request.message.modelName, logger: logger)
            return ServerResponse(message: Inference_RepositoryModelLoadResponse())
        } catch {
            throw RPCError(error)
        }
    }

    /// Unloads a model, keeping it in the repository (PERMISSION_DENIED without
    /// --allow-model-control).
    func repositoryModelUnload(
        request: ServerRequest<Inference_RepositoryModelUnloadRequest>, context: ServerContext
    ) async throws -> ServerResponse<Inference_RepositoryModelUnloadResponse> {
        do {
            try OpenInference.refuseRepositoryParameters(Array(request.message.parameters.keys))
            try await repository.unload(request.message.modelName, logger: logger)
            return ServerResponse(message: Inference_RepositoryModelUnloadResponse())
        } catch {
            throw RPCError(error)
        }
    }

    /// The response `body` makes, or its domain error as a status.
    private func answer<Message>(_ body: () throws(DMSError) -> Message) throws(RPCError) -> ServerResponse<Message> {
        do {
            return ServerResponse(message: try body())
        } catch {
            throw RPCError(error)
        }
    }
}

extension Inference_DataType {
    /// Triton's configuration type of an element type.
    init(_ dataType: DataType) {
        switch dataType {
        case .bool: self = .typeBool
        case .uint8: self = .typeUint8
        case .int8: self = .typeInt8
        case .int16: self = .typeInt16
        case .int32: self = .typeInt32
        case .int64: self = .typeInt64
        case .float16: self = .typeFp16
        case .float32: self = .typeFp32
        case .float64: self = .typeFp64
        }
    }
}

extension Inference_ModelStatistics {
    /// A model's statistics as the protocol's message (the cache steps count zero: there is no
    /// response cache).
    init(_ statistics: OpenInference.ModelStatistics) {
        func duration(_ step: ModelScheduler.Timings.Step) -> Inference_StatisticDuration {
            .with {
                $0.count = UInt64(step.count)
                $0.ns = UInt64(max(0, step.nanoseconds))
            }
        }
        let timings = statistics.timings
        self = .with {
            $0.name = statistics.name
            $0.version = statistics.version
            $0.lastInference = UInt64(max(0, statistics.lastInference))
            $0.inferenceCount = UInt64(statistics.inferenceCount)
            $0.executionCount = UInt64(statistics.executionCount)
            $0.inferenceStats = .with {
                $0.success = duration(timings.success)
                $0.fail = duration(timings.failure)
                $0.queue = duration(timings.queue)
                $0.computeInput = duration(timings.call.input)
                $0.computeInfer = duration(timings.call.infer)
                $0.computeOutput = duration(timings.call.output)
                $0.cacheHit = duration(ModelScheduler.Timings.Step())
                $0.cacheMiss = duration(ModelScheduler.Timings.Step())
            }
            $0.batchStats = timings.byBatchSize.sorted { $0.key < $1.key }.map { size, call in
                .with {
                    $0.batchSize = UInt64(size)
                    $0.computeInput = duration(call.input)
                    $0.computeInfer = duration(call.infer)
                    $0.computeOutput = duration(call.output)
                }
            }
        }
    }
}
