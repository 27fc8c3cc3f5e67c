@testable import DMSModelStore
import Foundation
import Testing

/// The known signatures here were computed independently with botocore 1.44.8's `S3SigV4Auth`
/// (payload signing off, clock fixed at 2013-05-24T00:00:00Z), the signer the AWS CLI uses.
@Suite("S3 GET requests")
struct S3RequestBuilderTests {
    static let credentials = AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let date = Date(timeIntervalSince1970: 1_369_353_600)

    static func request(_ text: String, _ configuration: S3Configuration, extraHeaders: [(name: String, value: String)] = []) throws -> S3ObjectRequest {
        try S3RequestBuilder(configuration: configuration).getObject(try S3ObjectLocation(parsing: text), extraHeaders: extraHeaders, date: date)
    }

    @Test func customEndpointIsPathStyleAndSignsTheExtraHeaders() throws {
        let configuration = S3Configuration(region: "us-east-1", endpoint: URL(string: "http://127.0.0.1:9000"), credentials: Self.credentials)
        let request = try Self.request(
            "s3://models/nets/resnet 18+v2.model", configuration,
            extraHeaders: [(name: "If-None-Match", value: "\"9b2cf535f27731c974343645a3985328\""), (name: "If-Modified-Since", value: "Fri, 24 May 2013 00:00:00 GMT")])
        #expect(request.url.absoluteString == "http://127.0.0.1:9000/models/nets/resnet%2018%2Bv2.model")
        #expect(request.headers.map(\.name) == ["host", "If-None-Match", "If-Modified-Since", "x-amz-date", "x-amz-content-sha256", "Authorization"])
        #expect(request.header("Host") == "127.0.0.1:9000")
        #expect(request.header("x-amz-date") == "20130524T000000Z")
        #expect(request.header("x-amz-content-sha256") == "UNSIGNED-PAYLOAD")
        #expect(
            request.header("authorization")
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;if-modified-since;if-none-match;x-amz-content-sha256;x-amz-date, "
                + "Signature=eb0abfc673f6a0d026bf369e397e89fd8e418f9a5c2b6e7cf5daf5fc117fe1f3")
    }

    @Test func awsIsVirtualHostedForDNSNamesAndSignsTheSessionToken() throws {
        var credentials = Self.credentials
        credentials.sessionToken = "FQoGZXIvYXdzEXAMPLETOKEN/+="
        let request = try Self.request("s3://my-models/nets/resnet-18.model", S3Configuration(region: "eu-west-1", credentials: credentials))
        #expect(request.url.absoluteString == "https://my-models.s3.eu-west-1.amazonaws.com/nets/resnet-18.model")
        #expect(request.header("host") == "my-models.s3.eu-west-1.amazonaws.com")
        #expect(request.header("x-amz-security-token") == "FQoGZXIvYXdzEXAMPLETOKEN/+=")
        #expect(
            request.header("authorization")
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/eu-west-1/s3/aws4_request, "
                + "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, "
                + "Signature=19227e7b012436d90620659439da4bb32001cc3ef8348e7b243214631699c0a4")
    }

    @Test(arguments: [
        ("s3://my.models/k", "https://s3.us-east-1.amazonaws.com/my.models/k"),
        ("s3://My_Models/k", "https://s3.us-east-1.amazonaws.com/My_Models/k"),
        ("s3://ab/k", "https://s3.us-east-1.amazonaws.com/ab/k"),
        ("s3://-models/k", "https://s3.us-east-1.amazonaws.com/-models/k"),
        ("s3://\(String(repeating: "a", count: 64))/k", "https://s3.us-east-1.amazonaws.com/\(String(repeating: "a", count: 64))/k"),
        ("s3://abc/k", "https://abc.s3.us-east-1.amazonaws.com/k"),
        ("s3://\(String(repeating: "a", count: 63))/k", "https://\(String(repeating: "a", count: 63)).s3.us-east-1.amazonaws.com/k"),
    ])
    func awsIsPathStyleForOtherNames(location: String, url: String) throws {
        let request = try Self.request(location, S3Configuration())
        #expect(request.url.absoluteString == url)
        #expect(request.header("host") == URL(string: url)?.host)
    }

    @Test func chinaRegionsUseTheirOwnDomain() throws {
        #expect(try Self.request("s3://models/k", S3Configuration(region: "cn-north-1")).url.absoluteString == "https://models.s3.cn-north-1.amazonaws.com.cn/k")
    }

    @Test func theHostPortFormWinsOverTheEnvironmentsEndpoint() throws {
        let configuration = S3Configuration(endpoint: URL(string: "https://elsewhere.example"), credentials: Self.credentials)
        let request = try Self.request("s3://localhost:4566/models/digits.model", configuration)
        #expect(request.url.absoluteString == "http://localhost:4566/models/digits.model")
        #expect(request.header("host") == "localhost:4566")
        #expect(request.header("authorization")?.contains("/us-east-1/s3/aws4_request") == true)
    }

    @Test func endpointPortsAndPathsAreKept() throws {
        let defaultPort = try Self.request("s3://b/k", S3Configuration(endpoint: URL(string: "https://minio.example:443")))
        #expect(defaultPort.url.absoluteString == "https://minio.example:443/b/k")
        #expect(defaultPort.header("host") == "minio.example")
        let withPath = try Self.request("s3://b/k", S3Configuration(endpoint: URL(string: "http://gateway.example:8080/storage/")))
        #expect(withPath.url.absoluteString == "http://gateway.example:8080/storage/b/k")
        #expect(withPath.header("host") == "gateway.example:8080")
        let ipv6 = try Self.request("s3://[::1]:9000/b/k", S3Configuration())
        #expect(ipv6.url.absoluteString == "http://[::1]:9000/b/k")
        #expect(ipv6.header("host") == "[::1]:9000")
    }

    @Test func aRegionThatCannotBeAHostNameIsAnError() {
        #expect(throws: S3ConfigurationError("s3://b/k: cannot form a URL from host 's3.us east.amazonaws.com' (region 'us east')")) {
            try S3RequestBuilder(configuration: S3Configuration(region: "us east")).getObject(S3ObjectLocation(bucket: "b", key: "k"))
        }
    }

    @Test func anonymousRequestsCarryNoSignature() throws {
        let request = try Self.request(
            "s3://127.0.0.1:9000/public/model.model", S3Configuration(), extraHeaders: [(name: "If-None-Match", value: "\"abc\"")])
        #expect(request.url.absoluteString == "http://127.0.0.1:9000/public/model.model")
        #expect(request.headers.map(\.name) == ["host", "If-None-Match"])
        #expect(request.header("authorization") == nil)
        #expect(request.headers.allSatisfy { !$0.name.lowercased().hasPrefix("x-amz-") })
    }
}
