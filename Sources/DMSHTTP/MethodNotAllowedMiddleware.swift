import HTTPTypes
import Hummingbird

/// Answers 405 with an `Allow` header when a request names a known path with a method the path
/// does not serve, whatever the method (HEAD, OPTIONS, TRACE, QUERY or one made up): the router
/// alone would answer 404, which tells a client the path does not exist.
///
/// Hummingbird's router has no notion of "path matched, method did not", so the known paths are
/// listed here as patterns (`*` stands for one segment, a model's name) with their one method.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// A path pattern and the method it serves.
    struct Endpoint: Sendable {
        var segments: [Substring]
        var method: HTTPRequest.Method

        init(_ pattern: String, _ method: HTTPRequest.Method) {
            self.segments = pattern.split(separator: "/")
            self.method = method
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
            guard let endpoint = endpoints.first(where: { $0.matches(path) }), endpoint.method != request.method else { throw error }
            throw WireError(
                status: .methodNotAllowed, type: "MethodNotAllowed",
                message: "\(request.method) is not allowed on \(request.uri.path); use \(endpoint.method)",
                headers: [.allow: endpoint.method.rawValue])
        }
    }
}
