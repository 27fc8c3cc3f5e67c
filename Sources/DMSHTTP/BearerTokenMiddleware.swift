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
        guard let presented = Self.bearerToken(request.headers[.authorization]) else {
            throw WireError(
                status: .unauthorized, type: "Unauthorized", message: "this endpoint needs the header 'Authorization: Bearer <token>'",
                headers: [.wwwAuthenticate: "Bearer realm=\"\(realm)\""])
        }
        guard Self.constantTimeEquals(presented, token) else {
            throw WireError(status: .forbidden, type: "Forbidden", message: "the bearer token is not valid for this endpoint")
        }
        return try await next(request, context)
    }

    /// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or nil.
    static func bearerToken(_ header: String?) -> [UInt8]? {
        guard let header, header.utf8.count > 7, String(header.utf8.prefix(7))?.lowercased() == "bearer " else { return nil }
        let token = header.utf8.dropFirst(7).drop { $0 == UInt8(ascii: " ") }
        return token.isEmpty ? nil : Array(token)
    }

    /// Whether `presented` equals `expected`, in a time that depends on `expected`'s length
    /// only, never on where the two differ (a timing side channel would reveal the token byte
    /// by byte). Hand-written: Swift's `==` on arrays stops at the first difference.
    static func constantTimeEquals(_ presented: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference: UInt8 = presented.count == expected.count ? 0 : 1
        for index in expected.indices {
            let byte = index < presented.count ? presented[index] : 0
            difference |= byte ^ expected[index]
        }
        return difference == 0
    }
}
