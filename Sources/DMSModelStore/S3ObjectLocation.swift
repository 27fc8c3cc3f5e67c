import Foundation

/// One object in S3, parsed from an `s3://` model location.
///
/// Two forms are accepted:
/// - `s3://bucket/key`: the bucket and key, with the endpoint chosen later from the environment
///   (`AWS_ENDPOINT_URL`, else AWS's own endpoint for the region);
/// - `s3://host:port/bucket/key`: the seed's form for S3-compatible stores, recognised because a
///   bucket name can never contain `:`. The endpoint is then `http://host:port`, addressed
///   path-style.
///
/// The key is taken literally, as the AWS CLI does: no percent-decoding, and `?` or `#` are part of
/// the key. Encoding for the wire is done when the request is built.
public struct S3ObjectLocation: Sendable, Equatable, CustomStringConvertible {
    /// The bucket's name.
    public var bucket: String
    /// The object's key, unencoded; never empty.
    public var key: String
    /// The endpoint named by the `s3://host:port/bucket/key` form; nil for `s3://bucket/key`.
    public var endpoint: URL?

    public init(bucket: String, key: String, endpoint: URL? = nil) {
        self.bucket = bucket
        self.key = key
        self.endpoint = endpoint
    }

    /// Parses `s3://bucket/key` or `s3://host:port/bucket/key` (the scheme in any case).
    public init(parsing text: String) throws(S3ConfigurationError) {
        guard text.lowercased().hasPrefix("s3://") else {
            throw S3ConfigurationError("'\(text)' is not an s3:// location")
        }
        var rest = Substring(text.dropFirst("s3://".count))
        let first = Self.nextSegment(of: &rest)
        var endpoint: URL?
        var bucket = first
        if let colon = first.lastIndex(of: ":") {
            endpoint = try Self.endpoint(host: first[..<colon], port: first[first.index(after: colon)...], in: text)
            bucket = Self.nextSegment(of: &rest)
        }
        guard !bucket.isEmpty else {
            throw S3ConfigurationError("'\(text)' names no bucket; expected s3://bucket/key or s3://host:port/bucket/key")
        }
        guard bucket.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) }) else {
            throw S3ConfigurationError("'\(text)': '\(bucket)' is not a valid bucket name (letters, digits, '-', '.' and '_' only)")
        }
        guard !rest.isEmpty else {
            throw S3ConfigurationError("'\(text)' names no object key; expected s3://\(endpoint == nil ? "" : "\(first)/")\(bucket)/key")
        }
        self.init(bucket: String(bucket), key: String(rest), endpoint: endpoint)
    }

    /// `s3://bucket/key`, or `s3://host:port/bucket/key` when the location names its endpoint.
    public var description: String {
        guard let endpoint, let host = endpoint.host, let port = endpoint.port else {
            return "s3://\(bucket)/\(key)"
        }
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "s3://\(bracketed):\(port)/\(bucket)/\(key)"
    }

    /// Removes and returns the text up to the next `/` (and the `/` itself).
    private static func nextSegment(of rest: inout Substring) -> Substring {
        guard let slash = rest.firstIndex(of: "/") else {
            defer { rest = "" }
            return rest
        }
        defer { rest = rest[rest.index(after: slash)...] }
        return rest[..<slash]
    }

    /// The `http://host:port` endpoint of the seed's form, with a port of 1–65535 and a host
    /// name (letters, digits, `-`, `.`, `_`) or a bracketed IPv6 address; any other character
    /// (`?`, `#`, `@`) would make the URL name another host or port than the one written.
    private static func endpoint(host: Substring, port: Substring, in text: String) throws(S3ConfigurationError) -> URL {
        let isHostName = host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) }
        var address = in6_addr()
        let isIPv6 = host.hasPrefix("[") && host.hasSuffix("]") && inet_pton(AF_INET6, String(host.dropFirst().dropLast()), &address) == 1
        guard !host.isEmpty, isHostName || isIPv6, port.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(port), (1...65535).contains(number),
            let url = URL(string: "http://\(host):\(number)"), url.host?.isEmpty == false, url.port == number
        else {
            throw S3ConfigurationError("'\(text)': '\(host):\(port)' is not a valid host:port; expected s3://host:port/bucket/key")
        }
        return url
    }
}
