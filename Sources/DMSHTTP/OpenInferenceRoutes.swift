import DMSCore
import DMSRuntime
import Foundation
import HTTPTypes
import Hummingbird

/// The Open Inference Protocol (KServe v2) over REST, on the inference API's port: server and
/// model health and metadata, and inference with the binary tensor data extension, in front of
/// the same models, queues and batches as `/predict`.
///
/// Every model has one version, `1`; `/v2/models/{m}/versions/1/…` is the same as
/// `/v2/models/{m}/…` and any other version is 404. Errors are `{"error": "…"}` with the status
/// the seed API gives the same error (400, 404, 413, 503, 504, 500; `WireError` renders them for
/// every path under `/v2`). Readiness that is false is 503, as `/health/ready`.
extension ModelServerRoutes {
    /// The paths and methods of the protocol, for the 405 answers.
    static let openInferenceEndpoints: [MethodNotAllowedMiddleware<ModelServerRequestContext>.Endpoint] = {
        var endpoints: [MethodNotAllowedMiddleware<ModelServerRequestContext>.Endpoint] = [
            .init("/v2", .get), .init("/v2/health/live", .get), .init("/v2/health/ready", .get),
            .init("/v2/repository/index", .post), .init("/v2/repository/models/*/load", .post), .init("/v2/repository/models/*/unload", .post),
        ]
        for model in ["/v2/models/*", "/v2/models/*/versions/*"] {
            endpoints += [.init(model, .get), .init("\(model)/ready", .get), .init("\(model)/config", .get), .init("\(model)/stats", .get), .init("\(model)/infer", .post)]
        }
        return endpoints
    }()

    func addOpenInferenceRoutes(to router: Router<ModelServerRequestContext>) {
        router.get("/v2") { _, _ in
            Response.json(.object([
                ("name", .string(OpenInference.serverName)), ("version", .string(ServerVersion.current)),
                ("extensions", .array(OpenInference.extensions.map { .string($0) })),
            ]))
        }
        router.get("/v2/health/live") { _, _ in Response.json(.object([("live", true)])) }
        router.get("/v2/health/ready") { [self] _, _ in
            let ready = OpenInference.serverReady(registry)
            return Response.json(.object([("ready", .bool(ready))]), status: ready ? .ok : .serviceUnavailable)
        }
        // The statistics extension, every ready model's (a model named "stats" is reached under
        // /v2/models/stats/versions/1/… for the rest, as in Triton).
        router.get("/v2/models/stats") { [self] _, _ in
            Response.json(.object([("model_stats", .array(registry.models.compactMap { OpenInference.statistics(of: $0).map(Self.json) }))]))
        }
        addRepositoryRoutes(to: router)
        for prefix in ["/v2/models/:model", "/v2/models/:model/versions/:version"] {
            router.get(RouterPath(prefix)) { [self] _, context in
                Response.json(Self.json(try OpenInference.metadata(of: try model(context))))
            }
            router.get(RouterPath("\(prefix)/ready")) { [self] _, context in
                let model = try model(context)
                let ready = model.state == .ready
                return Response.json(.object([("name", .string(model.name)), ("ready", .bool(ready))]), status: ready ? .ok : .serviceUnavailable)
            }
            router.get(RouterPath("\(prefix)/config")) { [self] _, context in
                Response.json(Self.json(try OpenInference.configuration(of: try model(context))))
            }
            router.get(RouterPath("\(prefix)/stats")) { [self] _, context in
                let model = try model(context)
                guard let statistics = OpenInference.statistics(of: model).map(Self.json) else { throw DMSError(.unavailable, "model '\(model.name)' is not ready") }
                return Response.json(.object([("model_stats", .array([statistics]))]))
            }
            router.post(RouterPath("\(prefix)/infer")) { [self] request, context in
                try await infer(request, context: context)
            }
        }
    }

    /// The repository extension: `POST /v2/repository/index` (body `{"ready": true}` for the
    /// ready models only) answers `[{"name", "version", "state", "reason"}]`;
    /// `POST /v2/repository/models/{m}/load` and `…/unload` answer 200 with an empty body once
    /// the model is loaded or unloaded (403 without `--allow-model-control`). Request
    /// parameters that would change the model (`config`, `file:…`) are refused;
    /// `unload_dependents` is accepted (no model depends on another here).
    private func addRepositoryRoutes(to router: Router<ModelServerRequestContext>) {
        router.post("/v2/repository/index") { [self] request, _ in
            let body = try Self.repositoryBody(try await request.collectBody(upTo: Self.repositoryBodyLimit, within: configuration.bodyTimeout))
            let ready = body["ready"]
            guard ready == nil || (JSONNumber.isBoolean(ready!) && ready is Bool) else { throw DMSError(.invalidInput, "'ready' must be true or false") }
            let entries = repository.index(readyOnly: ready as? Bool ?? false)
            return Response.json(.array(entries.map { entry in
                .object([("name", .string(entry.name)), ("version", .string(entry.version)), ("state", .string(entry.state)), ("reason", .string(entry.reason))])
            }))
        }
        for action in ["load", "unload"] {
            router.post(RouterPath("/v2/repository/models/:model/\(action)")) { [self] request, context in
                let name = try context.parameters.require("model")
                let body = try Self.repositoryBody(try await request.collectBody(upTo: Self.repositoryBodyLimit, within: configuration.bodyTimeout))
                try OpenInference.refuseRepositoryParameters(try OpenInferenceHTTPRequest.object(body["parameters"], "parameters").map { Array($0.keys) } ?? [])
                if action == "load" {
                    try await repository.load(name, logger: context.logger)
                } else {
                    try await repository.unload(name, logger: context.logger)
                }
                return Response(status: .ok, headers: [.contentLength: "0"])
            }
        }
    }

    /// Repository requests are small JSON objects (or empty).
    private static let repositoryBodyLimit = 64 * 1024

    package static func repositoryBody(_ body: ByteBuffer) throws(DMSError) -> [String: Any] {
        guard body.readableBytes > 0 else { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
            throw DMSError(.invalidInput, "the request body must be a JSON object")
        }
        return object
    }

    /// The model a `/v2/models/{m}[/versions/{v}]` path names; 404 for an unknown model or a
    /// version other than 1.
    private func model(_ context: ModelServerRequestContext) throws(DMSError) -> ServedModel {
        guard let name = context.parameters.get("model") else { throw DMSError(.invalidInput, "no model name in the path") }
        return try OpenInference.model(named: name, version: context.parameters.get("version"), in: registry)
    }

    /// Model metadata as JSON; dimensions of any size are -1.
    static func json(_ metadata: OpenInference.ModelMetadata) -> JSONValue {
        func tensors(_ tensors: [OpenInference.TensorMetadata]) -> JSONValue {
            .array(tensors.map { .object([("name", .string($0.name)), ("datatype", .string($0.datatype)), ("shape", integers($0.shape))]) })
        }
        return .object([
            ("name", .string(metadata.name)), ("versions", .array(metadata.versions.map { .string($0) })),
            ("platform", .string(metadata.platform)), ("inputs", tensors(metadata.inputs)), ("outputs", tensors(metadata.outputs)),
        ])
    }

    /// A model configuration in Triton's JSON field names: `name`, `platform`,
    /// `max_batch_size`, and `input` / `output` with `data_type` (`TYPE_FP32`) and `dims`.
    static func json(_ configuration: OpenInference.ModelConfiguration) -> JSONValue {
        func tensors(_ tensors: [OpenInference.ConfiguredTensor]) -> JSONValue {
            .array(tensors.map { .object([("name", .string($0.name)), ("data_type", .string("TYPE_" + $0.dataType.rawValue)), ("dims", integers($0.dims))]) })
        }
        return .object([
            ("name", .string(configuration.name)), ("platform", .string(configuration.platform)),
            ("max_batch_size", .integer(Int64(configuration.maxBatchSize))),
            ("input", tensors(configuration.inputs)), ("output", tensors(configuration.outputs)),
        ])
    }

    /// A statistics entry in Triton's JSON shape: `inference_stats` with `success`, `fail`,
    /// `queue`, `compute_input`, `compute_infer`, `compute_output` (and `cache_hit`,
    /// `cache_miss`, always 0: there is no response cache) as `{count, ns}`, and `batch_stats`
    /// per batch size.
    static func json(_ statistics: OpenInference.ModelStatistics) -> JSONValue {
        func step(_ step: ModelScheduler.Timings.Step) -> JSONValue {
            .object([("count", .integer(Int64(step.count))), ("ns", .integer(step.nanoseconds))])
        }
        let timings = statistics.timings
        let none = step(ModelScheduler.Timings.Step())
        return .object([
            ("name", .string(statistics.name)), ("version", .string(statistics.version)),
            ("last_inference", .integer(statistics.lastInference)),
            ("inference_count", .integer(Int64(statistics.inferenceCount))),
            ("execution_count", .integer(Int64(statistics.executionCount))),
            ("inference_stats", .object([
                ("success", step(timings.success)), ("fail", step(timings.failure)), ("queue", step(timings.queue)),
                ("compute_input", step(timings.call.input)), ("compute_infer", step(timings.call.infer)),
                ("compute_output", step(timings.call.output)), ("cache_hit", none), ("cache_miss", none),
            ])),
            ("batch_stats", .array(timings.byBatchSize.sorted { $0.key < $1.key }.map { size, call in
                .object([
                    ("batch_size", .integer(Int64(size))), ("compute_input", step(call.input)),
                    ("compute_infer", step(call.infer)), ("compute_output", step(call.output)),
                ])
            })),
        ])
    }

    private static func integers(_ values: [Int64]) -> JSONValue {
        .array(values.map { .integer($0) })
    }

    private func infer(_ request: Request, context: ModelServerRequestContext) async throws -> Response {
        // An unknown model or version is not counted: the metrics' labels stay the models served.
        let model = try model(context)
        return try await model.countingRequest { try await runInference(request, model: model, context: context) }
    }

    private func runInference(_ request: Request, model: ServedModel, context: ModelServerRequestContext) async throws -> Response {
        let name = model.name
        let arrival = ContinuousClock.now
        let deadline = try Self.deadline(request.headers[Self.timeoutHeader], now: arrival)
        try await model.waitForAdmission(deadline: deadline)
        let body = try await request.collectBody(upTo: configuration.maxBodyBytes, within: configuration.bodyTimeout)
        let headerLength = request.headers[Self.inferenceHeaderLength]
        let message = try await BlockingWork.run(isHeavy: body.readableBytes >= BlockingWork.thresholdBytes) { () throws(DMSError) in
            try OpenInferenceHTTPRequest(body: Array(body.readableBytesView), headerLength: headerLength)
        }
        let clientGone = await context.clientGoneCheck()
        let named = try await OpenInference.infer(
            message.request, outputs: message.outputs?.map(\.name), model: model,
            deadline: OpenInference.deadline(deadline, timeoutMicroseconds: message.timeoutMicroseconds, from: arrival), clientGone: clientGone)
        let outputs = named.enumerated().map { index, output in
            (name: output.name, tensor: output.tensor, binary: message.outputs?[index].binary ?? message.binaryOutputs)
        }
        // Writing many output values as JSON takes milliseconds: off the cooperative pool.
        let outputBytes = outputs.reduce(0) { $0 + $1.tensor.bytes.count }
        let encoded = try await BlockingWork.run(isHeavy: outputBytes >= BlockingWork.thresholdBytes) {
            OpenInferenceHTTPResponse(modelName: name, modelVersion: "1", id: message.id, outputs: outputs)
        }
        var headers: HTTPFields = [.contentLength: String(encoded.body.count)]
        if let headerLength = encoded.headerLength {
            headers[.contentType] = "application/octet-stream"
            headers[Self.inferenceHeaderLength] = String(headerLength)
        } else {
            headers[.contentType] = "application/json"
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: encoded.body)))
    }

    /// The binary tensor data extension's header: the length of the JSON part of a body.
    static let inferenceHeaderLength = HTTPField.Name("Inference-Header-Content-Length")!
}
