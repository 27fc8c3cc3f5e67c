import Foundation

/// Where and as whom S3 requests go: the region, the endpoint of an S3-compatible store, and the
/// credentials, as the AWS CLI takes them from the environment.
public struct S3Configuration: Sendable, Equatable {
    /// The region requests are signed for, and whose AWS endpoint is used without `endpoint`.
    public var region: String
    /// The endpoint of an S3-compatible store (MinIO, moto, …), addressed path-style; nil for AWS.
    public var endpoint: URL?
    /// The credentials to sign with; nil sends anonymous requests.
    public var credentials: AWSCredentials?

    public init(region: String = "us-east-1", endpoint: URL? = nil, credentials: AWSCredentials? = nil) {
        self.region = region
        self.endpoint = endpoint
        self.credentials = credentials
    }

    /// The configuration the environment describes:
    /// - region: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`;
    /// - endpoint: `AWS_ENDPOINT_URL_S3` (AWS's variable for S3 alone), else `AWS_ENDPOINT_URL`,
    ///   else none; it must be an `http://` or `https://` URL;
    /// - credentials: as `AWSCredentials.resolve(environment:homeDirectory:)` finds them.
    ///
    /// Empty variables count as unset. `~/.aws/config` is not read.
    public static func resolve(environment: [String: String], homeDirectory: URL = FileManager.default.homeDirectoryForCurrentUser) throws(S3ConfigurationError) -> S3Configuration {
        let variable = { (name: String) -> (name: String, value: String)? in
            guard let value = environment[name], !value.isEmpty else { return nil }
            return (name, value)
        }
        var configuration = S3Configuration()
        if let region = variable("AWS_REGION") ?? variable("AWS_DEFAULT_REGION") {
            guard region.value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                throw S3ConfigurationError("\(region.name)='\(region.value)' is not an AWS region name (such as eu-west-1)")
            }
            configuration.region = region.value
        }
        if let endpoint = variable("AWS_ENDPOINT_URL_S3") ?? variable("AWS_ENDPOINT_URL") {
            guard let url = URL(string: endpoint.value), ["http", "https"].contains(url.scheme?.lowercased()), url.host?.isEmpty == false,
                url.query == nil, url.fragment == nil
            else {
                throw S3ConfigurationError("\(endpoint.name)='\(endpoint.value)' is not an http:// or https:// endpoint URL")
            }
            configuration.endpoint = url
        }
        configuration.credentials = try AWSCredentials.resolve(environment: environment, homeDirectory: homeDirectory)
        return configuration
    }
}
