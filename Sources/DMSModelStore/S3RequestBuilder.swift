import Foundation

/// Builds the requests that fetch S3 objects: picks the endpoint and the addressing style, and
/// signs with AWS Signature Version 4 when there are credentials.
///
/// Addressing:
/// - the location's own endpoint (`s3://host:port/bucket/key`), else the configuration's
///   (`AWS_ENDPOINT_URL`): path-style, `<endpoint>/<bucket>/<key>`, as S3-compatible stores
///   expect;
/// - AWS itself: virtual-hosted `https://<bucket>.s3.<region>.amazonaws.com/<key>` when the bucket
///   name is a DNS label (3–63 lowercase letters, digits and `-`, starting and ending with a
///   letter or digit), else path-style `https://s3.<region>.amazonaws.com/<bucket>/<key>`. Names
///   with `.` go path-style too, because `*.s3.<region>.amazonaws.com` certificates do not cover
///   them. China's regions (`cn-…`) live under `amazonaws.com.cn`.
///
/// GETs are signed with `x-amz-content-sha256: UNSIGNED-PAYLOAD`; they have no body.
public struct S3RequestBuilder: Sendable {
    public var configuration: S3Configuration

    public init(configuration: S3Configuration) {
        self.configuration = configuration
    }

    /// The request for a GET of the object at `location`.
    ///
    /// - Parameters:
    ///   - location: the bucket and key (and perhaps the endpoint).
    ///   - extraHeaders: further headers to send and sign, such as `If-None-Match` or
    ///     `If-Modified-Since` for a conditional GET, or `Range`.
    ///   - date: the signing time (injected for tests); S3 refuses signatures more than 15
    ///     minutes away from its clock.
    /// - Throws: when the region or endpoint cannot form a URL (a region set in code, say, with
    ///   characters a host name cannot hold).
    public func getObject(
        _ location: S3ObjectLocation, extraHeaders: [(name: String, value: String)] = [], date: Date = Date()
    ) throws(S3ConfigurationError) -> S3ObjectRequest {
        let address = address(of: location)
        let host = Self.bracketed(address.host)
        let authority = address.port.map { "\(host):\($0)" } ?? host
        guard let url = URL(string: "\(address.scheme)://\(authority)\(AWSSignatureV4.canonicalPath(address.path))"), url.host != nil else {
            throw S3ConfigurationError("\(location): cannot form a URL from host '\(address.host)' (region '\(configuration.region)')")
        }
        let defaultPort = address.scheme == "https" ? 443 : 80
        let hostHeader = address.port.flatMap { $0 == defaultPort ? nil : "\(host):\($0)" } ?? host
        let headers = [(name: "host", value: hostHeader)] + extraHeaders
        guard let credentials = configuration.credentials else {
            return S3ObjectRequest(url: url, headers: headers)
        }
        let signer = AWSSignatureV4(credentials: credentials, region: configuration.region)
        let signed = signer.signedHeaders(method: "GET", path: address.path, headers: headers, payloadHash: AWSSignatureV4.unsignedPayload, date: date)
        return S3ObjectRequest(url: url, headers: signed)
    }

    /// Where the object is: the scheme, host and port to send to, and the object's unencoded path.
    private func address(of location: S3ObjectLocation) -> (scheme: String, host: String, port: Int?, path: String) {
        if let endpoint = location.endpoint ?? configuration.endpoint {
            let prefix = endpoint.path.hasSuffix("/") ? String(endpoint.path.dropLast()) : endpoint.path
            return (endpoint.scheme?.lowercased() ?? "http", endpoint.host ?? "", endpoint.port, "\(prefix)/\(location.bucket)/\(location.key)")
        }
        let domain = configuration.region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        let regional = "s3.\(configuration.region).\(domain)"
        if Self.isVirtualHostable(location.bucket) {
            return ("https", "\(location.bucket).\(regional)", nil, "/\(location.key)")
        }
        return ("https", regional, nil, "/\(location.bucket)/\(location.key)")
    }

    /// Whether the bucket can be the first label of a TLS-covered host name.
    private static func isVirtualHostable(_ bucket: String) -> Bool {
        let isLowerAlphanumeric = { (c: Character) in c.isASCII && (c.isLowercase || c.isNumber) }
        guard (3...63).contains(bucket.count), let first = bucket.first, let last = bucket.last,
            isLowerAlphanumeric(first), isLowerAlphanumeric(last)
        else { return false }
        return bucket.allSatisfy { isLowerAlphanumeric($0) || $0 == "-" }
    }

    /// An IPv6 address in brackets, as URLs and `Host` headers write it; other hosts unchanged.
    private static func bracketed(_ host: String) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    }
}
