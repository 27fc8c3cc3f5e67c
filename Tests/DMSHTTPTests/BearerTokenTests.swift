import Hummingbird
import Testing

@testable import DMSHTTP

@Suite("bearer token")
struct BearerTokenTests {
    typealias Middleware = BearerTokenMiddleware<BasicRequestContext>

    @Test func readsTheTokenOfABearerHeaderOnly() {
        #expect(Middleware.bearerToken("Bearer abc") == Array("abc".utf8))
        #expect(Middleware.bearerToken("bearer   abc") == Array("abc".utf8))
        #expect(Middleware.bearerToken("Bearer ") == nil)
        #expect(Middleware.bearerToken("Basic YWxhZGRpbjpvcGVuc2VzYW1l") == nil)
        #expect(Middleware.bearerToken("Bearerabc") == nil)
        #expect(Middleware.bearerToken(nil) == nil)
    }

    @Test func comparesWholeTokens() {
        let token = Array("s3cret-token".utf8)
        #expect(Middleware.constantTimeEquals(token, token))
        #expect(!Middleware.constantTimeEquals(Array("s3cret-tokeN".utf8), token))
        #expect(!Middleware.constantTimeEquals(Array("s3cret".utf8), token))
        #expect(!Middleware.constantTimeEquals(token + [0], token))
        #expect(!Middleware.constantTimeEquals([], token))
    }
}
