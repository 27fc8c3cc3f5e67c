/// Bearer-token credentials (`Authorization: Bearer <token>`), as every listener that asks for
/// a token reads and checks them: the REST APIs' middleware and the gRPC interceptor.
public enum BearerToken {
    /// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive), or nil.
    public static func parse(_ header: String?) -> [UInt8]? {
        guard let header, header.utf8.count > 7, String(header.utf8.prefix(7))?.lowercased() == "bearer " else { return nil }
        let token = header.utf8.dropFirst(7).drop { $0 == UInt8(ascii: " ") }
        return token.isEmpty ? nil : Array(token)
    }

    /// Whether `presented` equals `expected`, in a time that depends on `expected`'s length
    /// only, never on where the two differ (a timing side channel would reveal the token byte
    /// by byte). Hand-written: Swift's `==` on arrays stops at the first difference.
    public static func matches(_ presented: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference: UInt8 = presented.count == expected.count ? 0 : 1
        for index in expected.indices {
            let byte = index < presented.count ? presented[index] : 0
            difference |= byte ^ expected[index]
        }
        return difference == 0
    }
}
