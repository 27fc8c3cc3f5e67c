import DMSCore
import DMSModelStore
import DMSRuntime
import Foundation
import HTTPTypes
import Hummingbird

/// The management API, on a listener of its own (see docs/management-api.md):
///
/// - `GET /models`: every model with its state and location, models being registered too, and
///   the registrations that failed in the background;
/// - `POST /models`: register a model, `{"name": …, "location": …}` plus optional settings and
///   `"synchronous": false` to load in the background (202) instead of answering once it is
///   ready (201);
/// - `GET /models/{name}`: one model: location, state, engine, service, signature, settings in
///   effect and counters;
/// - `PATCH /models/{name}`: change its settings (`workers`, `max_batch_size`,
///   `max_batch_delay_ms`, `queue_size`, `queue_wait_ms`);
/// - `DELETE /models/{name}`: unregister it, answering once its requests are answered and its
///   engine memory is freed.
public struct ManagementRoutes: Sendable {
    public let manager: ModelManager
    /// The token every request must carry, or nil for none (allowed on loopback only).
    public let token: String?
    /// Largest request body.
    public let maxBodyBytes: Int
    /// Where each request's access-log entry goes, or nil for no access log.
    public let accessLog: (@Sendable (AccessLogEntry) -> Void)?
    /// How long a client may take to send a request's body; slower uploads get 408.
    public let bodyTimeout: Duration

    public init(
        manager: ModelManager, token: String?, maxBodyBytes: Int = 64 << 10, accessLog: (@Sendable (AccessLogEntry) -> Void)? = nil,
        bodyTimeout: Duration = .seconds(60)
    ) {
        self.manager = manager
        self.token = token
        self.maxBodyBytes = maxBodyBytes
        self.bodyTimeout = bodyTimeout
        self.accessLog = accessLog
    }

    /// The management router: errors as JSON, 405 for other methods, the token check first.
    public func makeRouter() -> Router<ModelServerRequestContext> {
        let router = Router(context: ModelServerRequestContext.self)
        router.add(middleware: AccessLogMiddleware(record: accessLog))
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: MethodNotAllowedMiddleware(endpoints: [
            .init("/models", .get, .post, headWithGet: false), .init("/models/*", .get, .patch, .delete, headWithGet: false),
        ]))
        if let token {
            router.add(middleware: BearerTokenMiddleware(token: token, realm: "deep-model-server management"))
        }
        let registry = manager.registry
        router.get("/models") { _, _ in
            let models = registry.modelsIncludingPending.map { model, pending in
                JSONValue.object([("name", .string(model.name)), ("state", .string(Self.stateName(model, pending: pending))), ("location", .string("\(model.location)"))])
            }
            let failures = registry.failedRegistrations.map { JSONValue.object([("name", .string($0.name)), ("reason", .string($0.reason))]) }
            return Response.json(.object([("models", .array(models)), ("failed_registrations", .array(failures))]))
        }
        router.post("/models") { [self] request, _ in
            let body = try await ManagementBody(request, limit: maxBodyBytes, timeout: bodyTimeout)
            try body.refuseUnknownMembers(["name", "location", "synchronous"] + ManagementBody.settingNames)
            let name = try body.string("name")
            let location = try ModelLocation(parsing: body.string("location"))
            let synchronous = try body.bool("synchronous") ?? true
            let spec = ModelSpec(name: name, location: location, settings: try body.settings(changing: ModelScheduler.Settings()))
            let model = try await manager.register(spec, inBackground: !synchronous)
            var response = Response.json(Self.describe(model, registry: registry), status: synchronous ? .created : .accepted)
            response.headers[.location] = "/models/\(name)"
            return response
        }
        router.get("/models/:name") { _, context in
            let model = try registry.requireModelIncludingPending(named: context.parameters.require("name"))
            return Response.json(Self.describe(model, registry: registry))
        }
        router.patch("/models/:name") { [self] request, context in
            let name = try context.parameters.require("name")
            let model = try registry.requireModelIncludingPending(named: name)
            let body = try await ManagementBody(request, limit: maxBodyBytes, timeout: bodyTimeout)
            try body.refuseUnknownMembers(ManagementBody.settingNames)
            guard let current = model.readyModel?.scheduler.settings else {
                throw DMSError(.unavailable, "model '\(name)' is \(Self.stateName(model, pending: false)); only a ready model's settings can change")
            }
            _ = try await manager.reconfigure(name, to: try body.settings(changing: current))
            return Response.json(Self.describe(model, registry: registry))
        }
        router.delete("/models/:name") { [self] _, context in
            let name = try context.parameters.require("name")
            try await manager.unregister(name)
            return Response.json(.object([("status", "unregistered"), ("name", .string(name))]))
        }
        return router
    }

    private static func stateName(_ model: ServedModel, pending: Bool) -> String {
        switch model.state {
        case .loading: "loading"
        case .ready: pending ? "loading" : "ready"
        case .failed: "failed"
        case .unloading: "unloading"
        }
    }

    /// One model as `GET /models/{name}` shows it.
    static func describe(_ model: ServedModel, registry: ModelRegistry) -> JSONValue {
        let pending = !registry.models.contains { $0 === model }
        var members: [(key: String, value: JSONValue)] = [
            ("name", .string(model.name)), ("location", .string("\(model.location)")), ("state", .string(stateName(model, pending: pending))),
        ]
        if case .failed(let reason) = model.state { members.append(("reason", .string(reason))) }
        if !pending, let loaded = model.readyModel {
            members += [("engine", .string(loaded.engineName)), ("service", .string(String(describing: type(of: loaded.pipeline.service))))]
            if case .object(let summary) = OpenAPIDocument.modelSummary(model) {
                members += summary.filter { $0.key != "state" }
            }
            if case .object(let statistics) = ModelStatistics.document(for: model) {
                let settingNames = Set(ManagementBody.settingNames)
                members.append(("settings", .object(statistics.filter { settingNames.contains($0.key) })))
                members.append(("statistics", .object(statistics.filter { !settingNames.contains($0.key) && $0.key != "state" })))
            }
        }
        return .object(members)
    }
}

/// A management request's JSON object body, read strictly: unknown members and values of the
/// wrong type are 400 errors that name the member.
struct ManagementBody {
    /// The settings a registration may give and a change may change, as `/statistics` names them.
    static let settingNames = ["workers", "max_batch_size", "max_batch_delay_ms", "queue_size", "queue_wait_ms"]

    private let members: [String: JSONValue]

    init(_ request: Request, limit: Int, timeout: Duration) async throws {
        let body = try await request.collectBody(upTo: limit, within: timeout)
        guard request.headers[.contentType].map({ $0.lowercased().hasPrefix("application/json") }) ?? true else {
            throw DMSError(.invalidInput, "the body must be a JSON object (Content-Type: application/json)")
        }
        guard let parsed = try? JSONValue(parsing: Array(buffer: body)), case .object(let members) = parsed else {
            throw DMSError(.invalidInput, "the body must be a JSON object")
        }
        self.members = Dictionary(members, uniquingKeysWith: { _, last in last })
    }

    func refuseUnknownMembers(_ allowed: [String]) throws(DMSError) {
        if let unknown = members.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw DMSError(.invalidInput, "unknown member '\(unknown)'; the members are \(allowed.joined(separator: ", "))")
        }
    }

    func string(_ key: String) throws(DMSError) -> String {
        guard case .string(let value)? = members[key], !value.isEmpty else {
            throw DMSError(.invalidInput, "'\(key)' must be a non-empty string")
        }
        return value
    }

    func bool(_ key: String) throws(DMSError) -> Bool? {
        switch members[key] {
        case nil: return nil
        case .bool(let value)?: return value
        default: throw DMSError(.invalidInput, "'\(key)' must be true or false")
        }
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws(DMSError) -> Int? {
        guard let value = members[key] else { return nil }
        let integer: Int? =
            switch value {
            case .integer(let number): Int(exactly: number)
            case .number(let number): Int(exactly: number)
            default: nil
            }
        guard let integer, range.contains(integer) else {
            throw DMSError(.invalidInput, "'\(key)' must be a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return integer
    }

    /// `settings` with the members given replacing its values; the ranges are the command line's.
    func settings(changing settings: ModelScheduler.Settings) throws(DMSError) -> ModelScheduler.Settings {
        var changed = settings
        if let workers = try integer("workers", in: 1...64) { changed.workers = workers }
        if let size = try integer("max_batch_size", in: 1...4096) { changed.maxBatchSize = size }
        if let delay = try integer("max_batch_delay_ms", in: 0...60_000) { changed.maxBatchDelay = .milliseconds(delay) }
        if let size = try integer("queue_size", in: 1...1_000_000) { changed.queueSize = size }
        if let wait = try integer("queue_wait_ms", in: 0...60_000) { changed.admissionWait = .milliseconds(wait) }
        return changed
    }
}
