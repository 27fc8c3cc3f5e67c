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
    /// The protocol extensions implemented, as `GET /v2` lists them.
    static let openInferenceExtensions = ["binary_tensor_data", "model_configuration", "statistics"]

    /// The paths and methods of the protocol, for the 405 answers.
    static let openInferenceEndpoints: [MethodNotAllowedMiddleware<ModelServerRequestContext>.Endpoint] = {
        var endpoints: [MethodNotAllowedMiddleware<ModelServerRequestContext>.Endpoint] = [
            .init("/v2", .get), .init("/v2/health/live", .get), .init("/v2/health/ready", .get),
        ]
        for model in ["/v2/models/*", "/v2/models/*/versions/*"] {
            endpoints += [.init(model, .get), .init("\(model)/ready", .get), .init("\(model)/config", .get), .init("\(model)/stats", .get), .init("\(model)/infer", .post)]
        }
        return endpoints
    }()

    /// The server version `GET /v2` reports.
    static let serverVersion = "0.1.0"

    func addOpenInferenceRoutes(to router: Router<ModelServerRequestContext>) {
        router.get("/v2") { _, _ in
            Response.json(.object([
                ("name", "deep-model-server"), ("version", .string(Self.serverVersion)),
                ("extensions", .array(Self.openInferenceExtensions.map { .string($0) })),
            ]))
        }
        router.get("/v2/health/live") { _, _ in Response.json(.object([("live", true)])) }
        router.get("/v2/health/ready") { [self] _, _ in
            let ready = registry.models.allSatisfy { $0.state == .ready }
            return Response.json(.object([("ready", .bool(ready))]), status: ready ? .ok : .serviceUnavailable)
        }
        // The statistics extension, every ready model's (a model named "stats" is reached under
        // /v2/models/stats/versions/1/… for the rest, as in Triton).
        router.get("/v2/models/stats") { [self] _, _ in
            Response.json(.object([("model_stats", .array(registry.models.compactMap { Self.statistics(of: $0) }))]))
        }
        for prefix in ["/v2/models/:model", "/v2/models/:model/versions/:version"] {
            router.get(RouterPath(prefix)) { [self] _, context in
                Response.json(try Self.metadata(of: try model(context)))
            }
            router.get(RouterPath("\(prefix)/ready")) { [self] _, context in
                let model = try model(context)
                let ready = model.state == .ready
                return Response.json(.object([("name", .string(model.name)), ("ready", .bool(ready))]), status: ready ? .ok : .serviceUnavailable)
            }
            router.get(RouterPath("\(prefix)/config")) { [self] _, context in
                Response.json(try Self.configuration(of: try model(context)))
            }
            router.get(RouterPath("\(prefix)/stats")) { [self] _, context in
                let model = try model(context)
                guard let statistics = Self.statistics(of: model) else { throw DMSError(.unavailable, "model '\(model.name)' is not ready") }
                return Response.json(.object([("model_stats", .array([statistics]))]))
            }
            router.post(RouterPath("\(prefix)/infer")) { [self] request, context in
                try await infer(request, context: context)
            }
        }
    }

    /// The model a `/v2/models/{m}[/versions/{v}]` path names; 404 for an unknown model or a
    /// version other than 1.
    private func model(_ context: ModelServerRequestContext) throws(DMSError) -> ServedModel {
        guard let name = context.parameters.get("model") else { throw DMSError(.invalidInput, "no model name in the path") }
        let model = try registry.requireModel(named: name)
        if let version = context.parameters.get("version"), version != "1" {
            throw DMSError(.notFound, "model '\(name)' has no version '\(version)'; it has one version, 1")
        }
        return model
    }

    /// The protocol's model metadata: name, versions, platform, inputs and outputs (dimensions of
    /// any size as -1). `.unavailable` for a model that is not ready (it may have no signature
    /// yet).
    static func metadata(of model: ServedModel) throws(DMSError) -> JSONValue {
        guard let ready = model.readyModel else { throw DMSError(.unavailable, "model '\(model.name)' is not ready") }
        func tensors(_ specs: [ModelSignature.TensorSpec]) -> JSONValue {
            .array(specs.map { spec in
                .object([("name", .string(spec.name)), ("datatype", .string(spec.dataType.rawValue)), ("shape", dimensions(spec.shape))])
            })
        }
        let signature = ready.artifacts.signature
        return .object([
            ("name", .string(model.name)), ("versions", .array([.string("1")])),
            ("platform", .string(platform(engineName: ready.engineName))),
            ("inputs", tensors(signature.inputs)), ("outputs", tensors(signature.outputs)),
        ])
    }

    /// The model configuration extension's answer, in the shape of Triton's model configuration
    /// (its JSON field names): `name`, `platform`, `max_batch_size` (the most rows one engine call
    /// takes, 0 for a model that cannot batch) and `input` / `output` with `data_type`
    /// (`TYPE_FP32`) and `dims`, which leave out the batch dimension when `max_batch_size` is
    /// above 0, as Triton's do. `.unavailable` for a model that is not ready.
    static func configuration(of model: ServedModel) throws(DMSError) -> JSONValue {
        guard let ready = model.readyModel else { throw DMSError(.unavailable, "model '\(model.name)' is not ready") }
        let signature = ready.artifacts.signature
        let maxBatchSize = signature.batchesAcrossRequests ? ready.scheduler.settings.maxBatchSize : 0
        func tensors(_ specs: [ModelSignature.TensorSpec]) -> JSONValue {
            .array(specs.map { spec in
                .object([
                    ("name", .string(spec.name)), ("data_type", .string(tritonDataType(spec.dataType))),
                    ("dims", dimensions(maxBatchSize > 0 ? Array(spec.shape.dropFirst()) : spec.shape)),
                ])
            })
        }
        return .object([
            ("name", .string(model.name)), ("platform", .string(platform(engineName: ready.engineName))),
            ("max_batch_size", .integer(Int64(maxBatchSize))),
            ("input", tensors(signature.inputs)), ("output", tensors(signature.outputs)),
        ])
    }

    /// The statistics extension's entry of a ready model (nil otherwise), in Triton's shape:
    /// `inference_count` (rows the engine ran), `execution_count` (engine calls),
    /// `last_inference` (milliseconds since 1970, 0 before the first), `inference_stats` with
    /// `success`, `fail`, `queue`, `compute_input` (writing inputs, decoding images),
    /// `compute_infer` (the engine), `compute_output` (splitting outputs) as `{count, ns}` per
    /// request, and `batch_stats` per batch size per engine call. Times run from when a request
    /// joins the model's queue; `cache_hit` and `cache_miss` stay 0 (no response cache).
    static func statistics(of model: ServedModel) -> JSONValue? {
        guard let ready = model.readyModel else { return nil }
        let statistics = ready.scheduler.statistics
        let timings = statistics.timings
        func step(_ step: ModelScheduler.Timings.Step) -> JSONValue {
            let components = step.total.components
            let nanoseconds = components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
            return .object([("count", .integer(Int64(step.count))), ("ns", .integer(nanoseconds))])
        }
        let none = step(ModelScheduler.Timings.Step())
        let lastInference = timings.lastInference.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) } ?? 0
        return .object([
            ("name", .string(model.name)), ("version", "1"),
            ("last_inference", .integer(lastInference)),
            ("inference_count", .integer(Int64(statistics.batchSizes.reduce(0) { $0 + $1.key * $1.value }))),
            ("execution_count", .integer(Int64(statistics.engineCalls))),
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

    /// A signature's shape as the protocol writes it: a dimension of any size (0 or -1 in a
    /// signature) as -1.
    static func dimensions(_ shape: [Int]) -> JSONValue {
        .array(shape.map { .integer(Int64($0 <= 0 ? -1 : $0)) })
    }

    /// Triton's name of a data type in model configurations (`TYPE_FP32`, `TYPE_BOOL`).
    static func tritonDataType(_ type: DataType) -> String {
        "TYPE_" + type.rawValue
    }

    /// Triton's platform names for the engines (`onnxruntime_onnx`); `mxnet` for MXNet, which
    /// Triton does not run.
    static func platform(engineName: String?) -> String {
        switch engineName {
        case "ONNX Runtime": "onnxruntime_onnx"
        case "MXNet": "mxnet"
        default: engineName?.lowercased() ?? ""
        }
    }

    private func infer(_ request: Request, context: ModelServerRequestContext) async throws -> Response {
        // An unknown model or version is not counted: the metrics' labels stay the models served.
        let model = try model(context)
        let started = ContinuousClock.now
        do {
            let response = try await runInference(request, model: model, context: context)
            record(.success, modelName: model.name, since: started)
            return response
        } catch let error as DMSError {
            record(ModelMetrics.Outcome(error), modelName: model.name, since: started)
            throw error
        } catch {
            record(.error, modelName: model.name, since: started)
            throw error
        }
    }

    private func runInference(_ request: Request, model: ServedModel, context: ModelServerRequestContext) async throws -> Response {
        let name = model.name
        let deadline = try Self.deadline(request.headers[Self.timeoutHeader])
        try await registry.waitForAdmission(modelName: name, deadline: deadline)
        let body = try await request.collectBody(upTo: configuration.maxBodyBytes)
        let headerLength = request.headers[Self.inferenceHeaderLength]
        let message = try await BlockingWork.run(isHeavy: body.readableBytes >= BlockingWork.thresholdBytes) { () throws(DMSError) in
            try OpenInferenceHTTPRequest(body: Array(body.readableBytesView), headerLength: headerLength)
        }
        // Unknown outputs are refused before the request takes a place in the queue.
        if let signature = model.signature {
            _ = try Self.select(message, from: signature.outputs.map(\.name))
        }
        let clientGone = await context.clientGoneCheck()
        let named = try await registry.infer(modelName: name, request: message.request, deadline: deadline, clientGone: clientGone)
        let chosen = try Self.select(message, from: named.map(\.name))
        let outputs = chosen.map { (name: named[$0.index].name, tensor: named[$0.index].tensor, binary: $0.binary) }
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

    /// The outputs `message` asks for (all of them when it names none), as indices into `names`
    /// with whether each goes as binary data; an unknown name is an `.invalidInput` error.
    private static func select(_ message: OpenInferenceHTTPRequest, from names: [String]) throws(DMSError) -> [(index: Int, binary: Bool)] {
        guard let requested = message.outputs else { return names.indices.map { ($0, message.binaryOutputs) } }
        return try requested.map { output throws(DMSError) in
            guard let index = names.firstIndex(of: output.name) else {
                throw DMSError(.invalidInput, "unknown output '\(output.name)'; this model's outputs are \(names.map { "'\($0)'" }.joined(separator: ", "))")
            }
            return (index, output.binary ?? message.binaryOutputs)
        }
    }

    /// The binary tensor data extension's header: the length of the JSON part of a body.
    static let inferenceHeaderLength = HTTPField.Name("Inference-Header-Content-Length")!
}
