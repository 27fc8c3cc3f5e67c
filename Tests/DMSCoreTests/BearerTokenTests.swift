import DMSCore
import Testing

@Suite("bearer token")
struct BearerTokenTests {
    @Test func readsTheTokenOfABearerHeaderOnly() {
        #expect(BearerToken.parse("Bearer abc") == Array("abc".utf8))
        #expect(BearerToken.parse("bearer   abc") == Array("abc".utf8))
        #expect(BearerToken.parse("Bearer ") == nil)
        #expect(BearerToken.parse("Basic YWxhZGRpbjpvcGVuc2VzYW1l") == nil)
        #expect(BearerToken.parse("Bearerabc") == nil)
        #expect(BearerToken.parse(nil) == nil)
    }

    @Test func comparesWholeTokens() {
        let token = Array("s3cret-token".utf8)
        #expect(BearerToken.matches(token, token))
        #expect(!BearerToken.matches(Array("s3cret-tokeN".utf8), token))
        #expect(!BearerToken.matches(Array("s3cret".utf8), token))
        #expect(!BearerToken.matches(token + [0], token))
        #expect(!BearerToken.matches([], token))
    }
}
