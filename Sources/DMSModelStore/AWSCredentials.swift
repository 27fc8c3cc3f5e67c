import Foundation

/// An AWS access key pair, with the session token of temporary credentials, used to sign requests.
///
/// `description` hides the secret and the token, so logging a value never leaks them.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible {
    public var accessKeyId: String
    public var secretAccessKey: String
    /// The token of temporary (STS) credentials, sent as `x-amz-security-token`.
    public var sessionToken: String?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String {
        "AWSCredentials(accessKeyId: \(accessKeyId), secretAccessKey: <hidden>\(sessionToken == nil ? "" : ", sessionToken: <hidden>"))"
    }

    /// The credentials that the AWS CLI would use, or nil to send anonymous (unsigned) requests.
    ///
    /// In order, as the AWS CLI and SDKs look:
    /// 1. `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (with `AWS_SESSION_TOKEN` when set);
    ///    one without the other is an error rather than a silent fall back to anonymous.
    /// 2. The shared credentials file, `AWS_SHARED_CREDENTIALS_FILE` (a leading `~/` is the home
    ///    folder) or else `~/.aws/credentials`, profile `AWS_PROFILE` or else `default`: its
    ///    `aws_access_key_id`, `aws_secret_access_key` and `aws_session_token`.
    ///
    /// A missing default file, or a file without a `default` profile when no `AWS_PROFILE` is set,
    /// means anonymous access. Everything the user asked for and did not get is an error: a file
    /// named by `AWS_SHARED_CREDENTIALS_FILE` that does not exist or cannot be read, a malformed
    /// file, a profile named by `AWS_PROFILE` that is not there (or no file at all), or a profile
    /// without both keys. Empty variables count
    /// as unset, as they do for the AWS CLI.
    ///
    /// - Parameters:
    ///   - environment: the process environment (injected for tests).
    ///   - homeDirectory: the folder `~` stands for (injected for tests).
    public static func resolve(environment: [String: String], homeDirectory: URL = FileManager.default.homeDirectoryForCurrentUser) throws(S3ConfigurationError) -> AWSCredentials? {
        let variable = { (name: String) -> String? in
            guard let value = environment[name], !value.isEmpty else { return nil }
            return value
        }
        let keyId = variable("AWS_ACCESS_KEY_ID")
        let secret = variable("AWS_SECRET_ACCESS_KEY")
        if let keyId, let secret {
            return AWSCredentials(accessKeyId: keyId, secretAccessKey: secret, sessionToken: variable("AWS_SESSION_TOKEN"))
        }
        if keyId != nil || secret != nil {
            let (present, missing) = keyId == nil ? ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID") : ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
            throw S3ConfigurationError("\(present) is set but \(missing) is not: set both, or neither to use the credentials file or anonymous access")
        }

        let namedFile = variable("AWS_SHARED_CREDENTIALS_FILE")
        let path = namedFile.map { expandingHome($0, homeDirectory: homeDirectory) }
            ?? homeDirectory.appendingPathComponent(".aws/credentials").path
        let namedProfile = variable("AWS_PROFILE")
        guard FileManager.default.fileExists(atPath: path) else {
            if namedFile != nil {
                throw S3ConfigurationError("AWS_SHARED_CREDENTIALS_FILE names \(path), which does not exist")
            }
            if let namedProfile {
                throw S3ConfigurationError("AWS_PROFILE is \(namedProfile), but there is no AWS credentials file at \(path)")
            }
            return nil
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw S3ConfigurationError("cannot read the AWS credentials file \(path): \(error.localizedDescription)")
        }
        let file = try AWSSharedCredentialsFile(parsing: text, path: path)

        let profileName = namedProfile ?? "default"
        guard let profile = file.profiles[profileName] else {
            if namedProfile == nil { return nil }
            throw S3ConfigurationError("the AWS credentials file \(path) has no profile [\(profileName)] (AWS_PROFILE)")
        }
        let setting = { (name: String) -> String? in
            guard let value = profile[name], !value.isEmpty else { return nil }
            return value
        }
        guard let fileKeyId = setting("aws_access_key_id"), let fileSecret = setting("aws_secret_access_key") else {
            throw S3ConfigurationError("profile [\(profileName)] of the AWS credentials file \(path) needs both aws_access_key_id and aws_secret_access_key")
        }
        return AWSCredentials(accessKeyId: fileKeyId, secretAccessKey: fileSecret, sessionToken: setting("aws_session_token"))
    }

    /// `path` with a leading `~` or `~/` replaced by the home folder.
    private static func expandingHome(_ path: String, homeDirectory: URL) -> String {
        if path == "~" { return homeDirectory.path }
        guard path.hasPrefix("~/") else { return path }
        return homeDirectory.appendingPathComponent(String(path.dropFirst(2))).path
    }
}
