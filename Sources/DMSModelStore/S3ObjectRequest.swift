import Foundation

/// A GET of one S3 object, ready to send: the URL and every header, signed when there are
/// credentials.
///
/// Send the headers exactly as listed, `host` included: the signature covers them, so an HTTP
/// client must not add its own `Host` or change a value.
public struct S3ObjectRequest: Sendable {
    /// The object's URL, its path already encoded as it was signed.
    public var url: URL
    /// The headers to send, in order.
    public var headers: [(name: String, value: String)]

    public init(url: URL, headers: [(name: String, value: String)]) {
        self.url = url
        self.headers = headers
    }

    /// The value of the header `name` (in any case), for tests and logs; nil when absent.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}
