@testable import DMSModelStore
import Foundation
import Testing

@Suite("s3:// locations")
struct S3ObjectLocationTests {
    @Test func parsesBucketAndKey() throws {
        let location = try S3ObjectLocation(parsing: "s3://my-models/nets/resnet-18.model")
        #expect(location == S3ObjectLocation(bucket: "my-models", key: "nets/resnet-18.model"))
        #expect(location.endpoint == nil)
        #expect(location.description == "s3://my-models/nets/resnet-18.model")
    }

    @Test func keepsTheKeyLiterally() throws {
        let location = try S3ObjectLocation(parsing: "S3://b.example/a%20b/c d?x=1#frag//")
        #expect(location.bucket == "b.example")
        #expect(location.key == "a%20b/c d?x=1#frag//")
    }

    @Test func parsesTheSeedsHostPortForm() throws {
        let location = try S3ObjectLocation(parsing: "s3://127.0.0.1:9000/models/digits-cnn.model")
        #expect(location.bucket == "models")
        #expect(location.key == "digits-cnn.model")
        #expect(location.endpoint == URL(string: "http://127.0.0.1:9000"))
        #expect(location.description == "s3://127.0.0.1:9000/models/digits-cnn.model")
        let named = try S3ObjectLocation(parsing: "s3://minio.local:80/b/dir/k")
        #expect(named.endpoint == URL(string: "http://minio.local:80"))
        #expect(named.key == "dir/k")
        let ipv6 = try S3ObjectLocation(parsing: "s3://[::1]:9000/b/k")
        #expect(ipv6.endpoint?.port == 9000)
        #expect(try S3ObjectLocation(parsing: ipv6.description) == ipv6)
    }

    @Test(arguments: [
        ("s3://", "names no bucket"),
        ("s3:///key", "names no bucket"),
        ("s3://bucket", "names no object key"),
        ("s3://bucket/", "names no object key"),
        ("s3://localhost:9000", "names no bucket"),
        ("s3://localhost:9000/", "names no bucket"),
        ("s3://localhost:9000/bucket", "names no object key"),
        ("s3://localhost:9000/bucket/", "names no object key"),
        ("s3://localhost:0/bucket/key", "not a valid host:port"),
        ("s3://localhost:70000/bucket/key", "not a valid host:port"),
        ("s3://localhost:+80/bucket/key", "not a valid host:port"),
        ("s3://:9000/bucket/key", "not a valid host:port"),
        ("s3://localhost:http/bucket/key", "not a valid host:port"),
        // Found by the model-sources fuzz target: '?' (or '#', '@') in the host made the URL
        // name another host, and the port vanished into its query.
        ("s3://minio.?x:90/bucket/key", "not a valid host:port"),
        ("s3://user@minio:90/bucket/key", "not a valid host:port"),
        ("s3://minio#:90/bucket/key", "not a valid host:port"),
        ("s3://[]:90/bucket/key", "not a valid host:port"),
        ("s3://[AD1]:90/bucket/key", "not a valid host:port"),
        ("s3://bu cket/key", "not a valid bucket name"),
        ("http://bucket/key", "not an s3:// location"),
    ])
    func refusesIncompleteLocations(text: String, reason: String) {
        #expect {
            try S3ObjectLocation(parsing: text)
        } throws: { error in
            (error as? S3ConfigurationError)?.message.contains(reason) == true
        }
    }

    @Test func namesTheExpectedFormInTheError() {
        #expect(throws: S3ConfigurationError("'s3://bucket' names no object key; expected s3://bucket/key")) {
            try S3ObjectLocation(parsing: "s3://bucket")
        }
        #expect(throws: S3ConfigurationError("'s3://h:1/bucket' names no object key; expected s3://h:1/bucket/key")) {
            try S3ObjectLocation(parsing: "s3://h:1/bucket")
        }
    }
}
