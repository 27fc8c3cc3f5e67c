@testable import DMSModelStore
import Foundation
import Testing

@Suite("S3 configuration from the environment")
struct S3ConfigurationTests {
    @Test func defaultsToUSEast1AndAWSAndAnonymous() throws {
        let home = try AWSTestHome()
        defer { home.remove() }
        #expect(try S3Configuration.resolve(environment: [:], homeDirectory: home.url) == S3Configuration(region: "us-east-1", endpoint: nil, credentials: nil))
        #expect(try S3Configuration.resolve(environment: ["AWS_REGION": "", "AWS_ENDPOINT_URL": ""], homeDirectory: home.url).region == "us-east-1")
    }

    @Test func regionFromAWSRegionThenAWSDefaultRegion() throws {
        let home = try AWSTestHome()
        defer { home.remove() }
        #expect(try S3Configuration.resolve(environment: ["AWS_DEFAULT_REGION": "eu-west-1"], homeDirectory: home.url).region == "eu-west-1")
        #expect(try S3Configuration.resolve(environment: ["AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "eu-west-1"], homeDirectory: home.url).region == "ap-south-1")
        #expect(throws: S3ConfigurationError("AWS_REGION='eu west/1' is not an AWS region name (such as eu-west-1)")) {
            try S3Configuration.resolve(environment: ["AWS_REGION": "eu west/1"], homeDirectory: home.url)
        }
    }

    @Test func endpointFromTheEnvironment() throws {
        let home = try AWSTestHome()
        defer { home.remove() }
        #expect(try S3Configuration.resolve(environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:9000"], homeDirectory: home.url).endpoint == URL(string: "http://127.0.0.1:9000"))
        let both = ["AWS_ENDPOINT_URL": "http://general:1", "AWS_ENDPOINT_URL_S3": "https://s3only:2"]
        #expect(try S3Configuration.resolve(environment: both, homeDirectory: home.url).endpoint == URL(string: "https://s3only:2"))
        for bad in ["127.0.0.1:9000", "ftp://host", "http://", "http://h?x=1"] {
            #expect(throws: S3ConfigurationError("AWS_ENDPOINT_URL='\(bad)' is not an http:// or https:// endpoint URL")) {
                try S3Configuration.resolve(environment: ["AWS_ENDPOINT_URL": bad], homeDirectory: home.url)
            }
        }
    }

    @Test func credentialsComeAlong() throws {
        let home = try AWSTestHome()
        defer { home.remove() }
        let configuration = try S3Configuration.resolve(environment: ["AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S"], homeDirectory: home.url)
        #expect(configuration.credentials == AWSCredentials(accessKeyId: "K", secretAccessKey: "S"))
    }
}
