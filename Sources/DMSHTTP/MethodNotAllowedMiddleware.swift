import HTTPTypes
import Hummingbird

/// Answers 405 with an `Allow` header when a request names a known path with a method the path
/// does not serve, whatever the method (OPTIONS, TRACE, QUERY, HEAD on a POST path, …): the
/// router alone would answer 404, which tells a client the path does not exist. (HEAD on a GET
/// path is served: the router answers it as GET without the body.)
///
/// Hummingbird's router has no notion of "path matched, method did not", so the known paths are
/// listed here as patterns (`*` stands for one segment, a model's name) with their one method.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// A path pattern and the method it serves (a GET path serves HEAD too).
    struct Endpoint: Sendable {
        var segments: [Substring]
        var method: HTTPRequest.Method

        var allowed: [HTTPRequest.Method] { method == .get ? [.get, .head] : [method] }

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
            guard let endpoint = endpoints.first(where: { $0.matches(path) }), !endpoint.allowed.contains(request.method) else { throw error }
            throw WireError(
                status: .methodNotAllowed, type: "MethodNotAllowed",
                message: "\(request.method) is not allowed on \(request.uri.path); use \(endpoint.method)",
                headers: [.allow: endpoint.allowed.map(\.rawValue).joined(separator: ", ")])
        }
    }
}
