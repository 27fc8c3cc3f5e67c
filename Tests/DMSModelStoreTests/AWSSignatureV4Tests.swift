@testable import DMSModelStore
import Foundation
import Testing

/// AWS's worked examples of Signature Version 4 for S3 ("Signature Calculations for the
/// Authorization Header", Amazon S3 API reference): the keys, bucket, time and expected values
/// are the published ones.
@Suite("AWS Signature Version 4")
struct AWSSignatureV4Tests {
    static let exampleCredentials = AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    /// Fri, 24 May 2013 00:00:00 GMT.
    static let exampleDate = Date(timeIntervalSince1970: 1_369_353_600)
    static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let signer = AWSSignatureV4(credentials: exampleCredentials, region: "us-east-1")

    @Test func getObjectExampleStepByStep() {
        let headers = [
            (name: "Host", value: "examplebucket.s3.amazonaws.com"),
            (name: "Range", value: "bytes=0-9"),
            (name: "x-amz-content-sha256", value: Self.emptyPayloadHash),
            (name: "x-amz-date", value: "20130524T000000Z"),
        ]
        let canonical = Self.signer.canonicalRequest(method: "GET", path: "/test.txt", query: [], headers: headers, payloadHash: Self.emptyPayloadHash)
        #expect(
            canonical == """
                GET
                /test.txt

                host:examplebucket.s3.amazonaws.com
                range:bytes=0-9
                x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                x-amz-date:20130524T000000Z

                host;range;x-amz-content-sha256;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """)
        let stringToSign = Self.signer.stringToSign(canonicalRequest: canonical, date: Self.exampleDate)
        #expect(
            stringToSign == """
                AWS4-HMAC-SHA256
                20130524T000000Z
                20130524/us-east-1/s3/aws4_request
                7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
                """)
        #expect(Self.signer.signature(stringToSign: stringToSign, date: Self.exampleDate) == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func getObjectExampleHeaders() {
        let signed = Self.signer.signedHeaders(
            method: "GET", path: "/test.txt",
            headers: [(name: "Host", value: "examplebucket.s3.amazonaws.com"), (name: "Range", value: "bytes=0-9")],
            payloadHash: Self.emptyPayloadHash, date: Self.exampleDate)
        #expect(signed.map(\.name) == ["Host", "Range", "x-amz-date", "x-amz-content-sha256", "Authorization"])
        #expect(signed[2].value == "20130524T000000Z")
        #expect(signed[3].value == Self.emptyPayloadHash)
        #expect(
            signed[4].value
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    /// The PUT Object example: a key with `$` (encoded `%24`) and more headers than GET uses.
    @Test func putObjectExample() {
        let signed = Self.signer.signedHeaders(
            method: "PUT", path: "/test$file.text",
            headers: [
                (name: "Date", value: "Fri, 24 May 2013 00:00:00 GMT"),
                (name: "Host", value: "examplebucket.s3.amazonaws.com"),
                (name: "x-amz-storage-class", value: "REDUCED_REDUNDANCY"),
            ],
            payloadHash: "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072", date: Self.exampleDate)
        let authorization = signed.first { $0.name == "Authorization" }?.value ?? ""
        #expect(authorization.contains("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "))
        #expect(authorization.hasSuffix("Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"))
    }

    /// The GET Bucket Lifecycle (a query name without a value) and GET Bucket (List Objects)
    /// examples; the list's parameters are given out of order to check the sorting.
    @Test(arguments: [
        ([(name: "lifecycle", value: "")], "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
        ([(name: "prefix", value: "J"), (name: "max-keys", value: "2")], "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
    ])
    func bucketExamplesWithQueries(query: [(name: String, value: String)], expected: String) {
        let signed = Self.signer.signedHeaders(
            method: "GET", path: "/", query: query,
            headers: [(name: "Host", value: "examplebucket.s3.amazonaws.com")],
            payloadHash: Self.emptyPayloadHash, date: Self.exampleDate)
        #expect(signed.last?.value.hasSuffix("Signature=\(expected)") == true)
    }

    /// The signing key example of AWS's SigV4 documentation (IAM, 2012-02-15; note the `+` in
    /// this secret).
    @Test func derivesThePublishedSigningKey() {
        let credentials = AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        let key = AWSSignatureV4(credentials: credentials, region: "us-east-1", service: "iam").signingKey(date: Date(timeIntervalSince1970: 1_329_264_000))
        let hex = key.withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
        #expect(hex == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }

    @Test func encodesEachPathSegmentOnce() {
        #expect(AWSSignatureV4.uriEncode("AZaz09-_.~") == "AZaz09-_.~")
        #expect(AWSSignatureV4.uriEncode("a b+c/d=é*") == "a%20b%2Bc%2Fd%3D%C3%A9%2A")
        #expect(AWSSignatureV4.canonicalPath("/bucket/models/resnet 18+v2.model") == "/bucket/models/resnet%2018%2Bv2.model")
        #expect(AWSSignatureV4.canonicalPath("/bucket/a%20b") == "/bucket/a%2520b")
        #expect(AWSSignatureV4.canonicalPath("/bucket/a//./../b") == "/bucket/a//./../b")
        #expect(AWSSignatureV4.canonicalPath("") == "/")
    }

    @Test func sortsAndEncodesTheQuery() {
        let query = [(name: "b", value: "2"), (name: "a", value: "x y"), (name: "a", value: "1"), (name: "c/d", value: "")]
        #expect(AWSSignatureV4.canonicalQuery(query) == "a=1&a=x%20y&b=2&c%2Fd=")
        #expect(AWSSignatureV4.canonicalQuery([]) == "")
    }

    @Test func canonicalHeadersAreTrimmedCollapsedAndMerged() {
        let canonical = Self.signer.canonicalRequest(
            method: "GET", path: "/k", query: [],
            headers: [(name: "X-Custom", value: "  a   b  "), (name: "HOST", value: "h"), (name: "x-custom", value: "c")],
            payloadHash: AWSSignatureV4.unsignedPayload)
        #expect(canonical == "GET\n/k\n\nhost:h\nx-custom:a b,c\n\nhost;x-custom\nUNSIGNED-PAYLOAD")
    }

    @Test func signsTheSessionToken() {
        let credentials = AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", sessionToken: "token/+=")
        let signed = AWSSignatureV4(credentials: credentials, region: "us-east-1")
            .signedHeaders(method: "GET", path: "/test.txt", headers: [(name: "host", value: "examplebucket.s3.amazonaws.com")], payloadHash: AWSSignatureV4.unsignedPayload, date: Self.exampleDate)
        #expect(signed.first { $0.name == "x-amz-security-token" }?.value == "token/+=")
        #expect(signed.last?.value.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, ") == true)
    }

    @Test func timestampsAreUTC() {
        #expect(AWSSignatureV4.timestamp(Self.exampleDate) == "20130524T000000Z")
        #expect(AWSSignatureV4.timestamp(Date(timeIntervalSince1970: 1_764_067_199)) == "20251125T103959Z")
    }
}
