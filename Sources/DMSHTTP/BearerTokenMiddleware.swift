import DMSCore
import Hummingbird

/// Lets through only requests that carry `Authorization: Bearer <token>` with the server's
/// token. A request without credentials (no header, another scheme) is answered 401 with
/// `WWW-Authenticate: Bearer`; one with a wrong token 403. Paths in `exemptPaths` (Kubernetes
/// probes) pass without a token.
///
/// The token is compared in constant time and never logged, nor is the header.
public struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    private let token: [UInt8]
    private let realm: String
    private let exemptPaths: Set<String>

    public init(token: String, realm: String, exemptPaths: Set<String> = []) {
        precondition(!token.isEmpty, "an empty token would let everyone in")
        self.token = Array(token.utf8)
        self.realm = realm
        self.exemptPaths = exemptPaths
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // The router takes a path with a trailing slash as the same route.
        var path = Substring(request.uri.path)
        while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        if exemptPaths.contains(String(path)) { return try await next(request, context) }
        guard let presented = BearerToken.parse(request.headers[.authorization]) else {
            throw WireError(
                status: .unauthorized, type: "Unauthorized", message: "this endpoint needs the header 'Authorization: Bearer <token>'",
                headers: [.wwwAuthenticate: "Bearer realm=\"\(realm)\""])
        }
        guard BearerToken.matches(presented, token) else {
            throw WireError(status: .forbidden, type: "Forbidden", message: "the bearer token is not valid for this endpoint")
        }
        return try await next(request, context)
    }
}
