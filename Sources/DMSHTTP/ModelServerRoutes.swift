import DMSCore
import DMSRuntime
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// The REST API the seed documents: `POST /<model>/predict`, `GET /ping`,
/// `GET /api-description`, with JSON errors for everything else; plus `GET /statistics`, what
/// each model's scheduler is doing and has done, `GET /openapi.json`, the API as OpenAPI 3.1, and
/// `GET /`, a page to try the models in a browser.
public final class ModelServerRoutes: Sendable {
    public let registry: ModelRegistry
    /// The Open Inference Protocol's repository extension (`/v2/repository/…`).
    public let repository: ModelRepository
    public let configuration: HTTPConfiguration
    /// The `host:port` the server is bound to, filled in once it is listening (port 0 binds a
    /// free port, so the real one is only known then).
    public let boundHost = Mutex<String?>(nil)

    /// Without a `repository`, the repository extension indexes the registry's models and
    /// refuses to load or unload them.
    public init(registry: ModelRegistry, configuration: HTTPConfiguration, repository: ModelRepository? = nil) {
        self.registry = registry
        self.repository = repository ?? ModelRepository(registry: registry, control: nil)
        self.configuration = configuration
    }

    /// Registers the routes and the error middleware on a new router.
    public func makeRouter() -> Router<ModelServerRequestContext> {
        let router = Router(context: ModelServerRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: AccessLogMiddleware(record: configuration.accessLog))
        router.add(middleware: ErrorMiddleware())
        var endpoints: [MethodNotAllowedMiddleware<ModelServerRequestContext>.Endpoint] = [
            .init("/", .get), .init("/ping", .get), .init("/health/live", .get), .init("/health/ready", .get), .init("/api-description", .get), .init("/statistics", .get), .init("/openapi.json", .get),
            .init("/*/predict", .post),
        ] + Self.openInferenceEndpoints
        if let metricsExposition = configuration.metricsExposition {
            endpoints.append(.init("/metrics", .get))
            router.get("/metrics") { _, _ in
                let text = metricsExposition()
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(bytes: text)))
            }
        }
        router.add(middleware: MethodNotAllowedMiddleware(endpoints: endpoints))
        if let token = configuration.token {
            // Kubernetes' HTTP probes carry no credentials.
            router.add(middleware: BearerTokenMiddleware(token: token, realm: "deep-model-server", exemptPaths: ["/health/live", "/health/ready", "/v2/health/live", "/v2/health/ready"]))
        }
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: Playground.page)))
        }
        router.get("/ping") { [self] _, _ in ping() }
        // Kubernetes probes: alive while the server answers at all; ready while every model is.
        router.get("/health/live") { _, _ in Response.json(.object([("status", "alive")])) }
        router.get("/health/ready") { [self] _, _ in
            let waiting = modelsNotReady()
            guard !waiting.isEmpty else { return Response.json(.object([("status", "ready")])) }
            return .json(.object([("status", "not ready"), ("models", .object(waiting))]), status: .serviceUnavailable)
        }
        router.get("/api-description") { [self] _, _ in
            let host = boundHost.withLock { $0 } ?? configuration.advertisedHost
            return Response.json(.object([("description", APIDescription.document(models: registry.models, host: host))]))
        }
        // Relative to where the document was fetched from, which is right behind a proxy too.
        router.get("/openapi.json") { [self] _, _ in
            Response.json(OpenAPIDocument.document(models: registry.models, serverURL: "/", servesMetrics: configuration.metricsExposition != nil))
        }
        router.get("/statistics") { [self] _, _ in
            Response.json(.object([("models", .object(registry.models.map { ($0.name, ModelStatistics.document(for: $0)) }))]))
        }
        addOpenInferenceRoutes(to: router)
        router.post("/:model/predict") { [self] request, context in
            let name = try context.parameters.require("model")
            let started = ContinuousClock.now
            do {
                let response = try await predict(request, modelName: name, context: context)
                record(.success, modelName: name, since: started)
                return response
            } catch let error as DMSError {
                record(ModelMetrics.Outcome(error), modelName: name, since: started)
                throw error
            } catch {
                record(.error, modelName: name, since: started)
                throw error
            }
        }
        return router
    }

    /// Each model that is not ready, with its state (`loading`, `unloading`, `failed: <reason>`).
    private func modelsNotReady() -> [(key: String, value: JSONValue)] {
        registry.models.compactMap { model -> (key: String, value: JSONValue)? in
            switch model.state {
            case .ready: nil
            case .failed(let reason): (model.name, .string("failed: \(reason)"))
            case .loading: (model.name, .string("loading"))
            case .unloading: (model.name, .string("unloading"))
            }
        }
    }

    private func ping() -> Response {
        let details = modelsNotReady()
        guard !details.isEmpty else {
            return .json(.object([("health", .string("healthy!"))]))
        }
        return .json(.object([("health", .string("unhealthy!")), ("models", .object(details))]), status: .serviceUnavailable)
    }

    /// Counts a prediction request in its model's metrics (none for a name no model has: the
    /// label values stay the models served).
    func record(_ outcome: ModelMetrics.Outcome, modelName: String, since started: ContinuousClock.Instant) {
        guard let model = try? registry.requireModel(named: modelName) else { return }
        model.metrics.recordRequest(outcome, duration: .now - started)
    }

    private func predict(_ request: Request, modelName name: String, context: ModelServerRequestContext) async throws -> Response {
        let deadline = try Self.deadline(request.headers[Self.timeoutHeader])
        // Before reading the body: an unknown model, or one whose queue stays full, is answered
        // without receiving the upload.
        try await registry.waitForAdmission(modelName: name, deadline: deadline)
        let body = try await request.collectBody(upTo: configuration.maxBodyBytes, within: configuration.bodyTimeout)
        let contentType = request.headers[.contentType]
        // Parsing a large body (multipart, JSON) takes milliseconds: off the cooperative pool.
        var predictionRequest = try await BlockingWork.run(isHeavy: body.readableBytes >= BlockingWork.thresholdBytes) { () throws(DMSError) in
            try PredictionRequest(httpBody: body, contentType: contentType)
        }
        predictionRequest.acceptedTypes = PredictionRequest.mediaTypes(acceptHeader: request.headers[.accept])
        let clientGone = await context.clientGoneCheck()
        let response = try await registry.predict(modelName: name, request: predictionRequest, deadline: deadline, clientGone: clientGone)
        switch response {
        case .json(let document):
            return .json(document)
        case .bytes(let bytes, let contentType):
            return Response(
                status: .ok, headers: [.contentType: contentType, .contentLength: String(bytes.count)],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    /// The request header giving a time budget in milliseconds, counted from its arrival: a
    /// request still queued when it runs out is answered 504 DeadlineExceeded without an
    /// engine call.
    public static let timeoutHeader = HTTPField.Name("X-Request-Timeout-Ms")!

    /// The deadline an `X-Request-Timeout-Ms` value gives, counted from `now`; nil without one.
    static func deadline(_ value: String?, now: ContinuousClock.Instant = .now) throws(DMSError) -> ContinuousClock.Instant? {
        guard let value else { return nil }
        guard let milliseconds = Int(value.trimmingCharacters(in: .whitespaces)), milliseconds >= 0 else {
            throw DMSError(.invalidInput, "\(timeoutHeader) must be a whole number of milliseconds, got '\(value)'")
        }
        return now + .milliseconds(milliseconds)
    }
}
