import HTTPTypes
import Hummingbird

/// Answers 405 with an `Allow` header when a request names a known path with a method the path
/// does not serve, whatever the method (OPTIONS, TRACE, QUERY, HEAD on a POST path, …): the
/// router alone would answer 404, which tells a client the path does not exist. (HEAD on a GET
/// path is served: the router answers it as GET without the body.)
///
/// Hummingbird's router has no notion of "path matched, method did not", so the known paths are
/// listed here as patterns (`*` stands for one segment, a model's name) with their methods.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// A path pattern and the methods it serves (a GET path serves HEAD too, when the router
    /// generates HEAD endpoints).
    struct Endpoint: Sendable {
        var segments: [Substring]
        var allowed: [HTTPRequest.Method]

        init(_ pattern: String, _ methods: HTTPRequest.Method..., headWithGet: Bool = true) {
            self.segments = pattern.split(separator: "/")
            self.allowed = methods.flatMap { $0 == .get && headWithGet ? [$0, .head] : [$0] }
        }

        func matches(_ path: [Substring]) -> Bool {
            path.count == segments.count && zip(path, segments).allSatisfy { $1 == "*" || $0 == $1 }
        }
    }

    let endpoints: [Endpoint]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let path = request.uri.path.split(separator: "/")
            guard let endpoint = endpoints.first(where: { $0.matches(path) }), !endpoint.allowed.contains(request.method) else { throw error }
            throw WireError(
                status: .methodNotAllowed, type: "MethodNotAllowed",
                message: "\(request.method) is not allowed on \(request.uri.path); use \(endpoint.allowed.map(\.rawValue).joined(separator: " or "))",
                headers: [.allow: endpoint.allowed.map(\.rawValue).joined(separator: ", ")])
        }
    }
}
