import Crypto
import Foundation

/// AWS Signature Version 4 for requests sent in the `Authorization` header, following AWS's
/// published algorithm: canonical request → string to sign → HMAC-SHA256 with a key derived from
/// the secret, the date, the region and the service.
///
/// Written for S3, whose rules differ from other services in one point: the path is encoded
/// exactly once and never normalised (`.`, `..` and `//` are parts of the key). Each step is public
/// so tests can compare it with AWS's worked examples.
public struct AWSSignatureV4: Sendable {
    /// The `x-amz-content-sha256` value that leaves the body out of the signature.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// The name of the algorithm, first word of the `Authorization` header.
    public static let algorithm = "AWS4-HMAC-SHA256"

    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers to send: `headers` followed by `x-amz-date`, `x-amz-content-sha256`,
    /// `x-amz-security-token` (with a session token) and `Authorization`.
    ///
    /// Every header given is signed, so `headers` must hold exactly what will be sent, `host`
    /// included (with its port when it is not the scheme's default).
    ///
    /// - Parameters:
    ///   - method: the HTTP method, such as `GET`.
    ///   - path: the URL's path, unencoded (`/bucket/my key`); encoded here as S3 expects.
    ///   - query: the query's names and values, unencoded.
    ///   - headers: the headers to sign and send.
    ///   - payloadHash: the body's SHA-256 in lowercase hex, or `unsignedPayload`.
    ///   - date: the signing time, sent as `x-amz-date`.
    public func signedHeaders(
        method: String, path: String, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)], payloadHash: String, date: Date
    ) -> [(name: String, value: String)] {
        var all = headers
        all.append((name: "x-amz-date", value: Self.timestamp(date)))
        all.append((name: "x-amz-content-sha256", value: payloadHash))
        if let token = credentials.sessionToken {
            all.append((name: "x-amz-security-token", value: token))
        }
        let request = canonicalRequest(method: method, path: path, query: query, headers: all, payloadHash: payloadHash)
        let signature = signature(stringToSign: stringToSign(canonicalRequest: request, date: date), date: date)
        all.append((name: "Authorization", value: authorization(signedHeaderNames: Self.signedHeaderNames(all), signature: signature, date: date)))
        return all
    }

    /// The canonical request: method, encoded path, canonical query, canonical headers, the list
    /// of signed header names and the payload hash, one per line.
    public func canonicalRequest(
        method: String, path: String, query: [(name: String, value: String)],
        headers: [(name: String, value: String)], payloadHash: String
    ) -> String {
        let canonicalHeaders = Self.canonicalHeaders(headers).map { "\($0.name):\($0.value)\n" }.joined()
        return [
            method,
            Self.canonicalPath(path),
            Self.canonicalQuery(query),
            canonicalHeaders,
            Self.signedHeaderNames(headers),
            payloadHash,
        ].joined(separator: "\n")
    }

    /// The string to sign: the algorithm, the timestamp, the credential scope and the canonical
    /// request's SHA-256, one per line.
    public func stringToSign(canonicalRequest: String, date: Date) -> String {
        [
            Self.algorithm,
            Self.timestamp(date),
            scope(date),
            Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8))),
        ].joined(separator: "\n")
    }

    /// The signature: HMAC-SHA256 of the string to sign with the signing key, in lowercase hex.
    public func signature(stringToSign: String, date: Date) -> String {
        Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(date: date)))
    }

    /// The signing key: HMAC-SHA256 chained over the date, the region, the service and
    /// `aws4_request`, starting from `"AWS4" + secret`. It depends on the day only, not the time.
    public func signingKey(date: Date) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [Self.dateStamp(date), region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    /// The `Authorization` header's value.
    public func authorization(signedHeaderNames: String, signature: String, date: Date) -> String {
        "\(Self.algorithm) Credential=\(credentials.accessKeyId)/\(scope(date)), SignedHeaders=\(signedHeaderNames), Signature=\(signature)"
    }

    /// `yyyyMMdd/region/service/aws4_request`.
    private func scope(_ date: Date) -> String {
        "\(Self.dateStamp(date))/\(region)/\(service)/aws4_request"
    }

    /// The path with each segment URI-encoded and the `/` between them kept; `/` when empty.
    public static func canonicalPath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false).map { uriEncode(String($0)) }.joined(separator: "/")
    }

    /// The query: each name and value URI-encoded (`/` too), as `name=value` (`name=` without a
    /// value), sorted by encoded name and then value, joined by `&`.
    public static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map { (name: uriEncode($0.name), value: uriEncode($0.value)) }
        let sorted = encoded.sorted { first, second in
            first.name == second.name ? first.value < second.value : first.name < second.name
        }
        return sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    /// AWS's URI encoding: the unreserved characters `A-Z a-z 0-9 - _ . ~` stay, every other byte
    /// of the UTF-8 form becomes `%XX` with uppercase hex (a space is `%20`, never `+`).
    public static func uriEncode(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                encoded += String(format: "%%%02X", byte)
            }
        }
        return encoded
    }

    /// Headers as signed: names lowercased, values trimmed with inner runs of spaces collapsed to
    /// one, repeated names joined by `,`, sorted by name.
    private static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> [(name: String, value: String)] {
        var values: [String: [String]] = [:]
        for header in headers {
            let value = header.value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                .trimmingCharacters(in: .whitespaces)
            values[header.name.lowercased(), default: []].append(value)
        }
        return values.keys.sorted().map { (name: $0, value: values[$0, default: []].joined(separator: ",")) }
    }

    /// The lowercased names of the signed headers, sorted and joined by `;`.
    private static func signedHeaderNames(_ headers: [(name: String, value: String)]) -> String {
        Set(headers.map { $0.name.lowercased() }).sorted().joined(separator: ";")
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC, the form of `x-amz-date`.
    public static func timestamp(_ date: Date) -> String {
        let parts = utcComponents(date)
        return dateStamp(date) + String(format: "T%02d%02d%02dZ", parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
    }

    /// `yyyyMMdd` in UTC, the date of the credential scope.
    private static func dateStamp(_ date: Date) -> String {
        let parts = utcComponents(date)
        return String(format: "%04d%02d%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    private static func utcComponents(_ date: Date) -> DateComponents {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    }

    /// Lowercase hex, the form of hashes and signatures in SigV4.
    private static func hex<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
