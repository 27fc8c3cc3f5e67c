@testable import DMSModelStore
import Foundation
import Testing

@Suite("AWS credentials")
struct AWSCredentialsTests {
    static let profiles = """
        # a comment
        ; another comment
        [default]
        aws_access_key_id = DEFAULTKEY
        aws_secret_access_key = default/secret+with=signs

        [ci]
        AWS_Access_Key_Id=CIKEY
        aws_secret_access_key:CISECRET
        aws_session_token = CITOKEN
        s3 =
            max_concurrent_requests = 20

        [broken]
        aws_access_key_id = ONLYKEY
        """

    @Test func environmentVariablesComeFirst() throws {
        let home = try AWSTestHome()
        defer { home.remove() }
        try home.write(Self.profiles, to: ".aws/credentials")
        let environment = ["AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "ENVSECRET", "AWS_SESSION_TOKEN": "ENVTOKEN", "AWS_PROFILE": "ci"]
        #expect(
            try AWSCredentials.resolve(environment: environment, homeDirectory: home.url)
                == AWSCredentials(accessKeyId: "ENVKEY", secretAccessKey: "ENVSECRET", sessionToken: "ENVTOKEN"))
        let withoutToken = try AWSCredentials.resolve(environment: ["AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S", "AWS_SESSION_TOKEN": ""], homeDirectory: home.url)
        #expect(withoutToken == AWSCredentials(accessKeyId: "K", secretAccessKey: "S"))
    }

    @Test func halfAKeyPairIsAnError() throws {
        let home = try AWSTestHome()
        defer { home.remove() }
        #expect(throws: S3ConfigurationError("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither to use the credentials file or anonymous access")) {
            try AWSCredentials.resolve(environment: ["AWS_ACCESS_KEY_ID": "K"], homeDirectory: home.url)
        }
        #expect(throws: S3ConfigurationError.self) {
            try AWSCredentials.resolve(environment: ["AWS_SECRET_ACCESS_KEY": "S", "AWS_ACCESS_KEY_ID": ""], homeDirectory: home.url)
        }
    }

    @Test func nothingConfiguredIsAnonymous() throws {
        let home = try AWSTestHome()
        defer { home.remove() }
        #expect(try AWSCredentials.resolve(environment: [:], homeDirectory: home.url) == nil)
        try home.write("[other]\naws_access_key_id = K\naws_secret_access_key = S\n", to: ".aws/credentials")
        #expect(try AWSCredentials.resolve(environment: [:], homeDirectory: home.url) == nil)
    }

    @Test func readsTheDefaultFileAndProfiles() throws {
        let home = try AWSTestHome()
        defer { home.remove() }
        try home.write(Self.profiles, to: ".aws/credentials")
        #expect(
            try AWSCredentials.resolve(environment: [:], homeDirectory: home.url)
                == AWSCredentials(accessKeyId: "DEFAULTKEY", secretAccessKey: "default/secret+with=signs"))
        #expect(
            try AWSCredentials.resolve(environment: ["AWS_PROFILE": "ci"], homeDirectory: home.url)
                == AWSCredentials(accessKeyId: "CIKEY", secretAccessKey: "CISECRET", sessionToken: "CITOKEN"))
    }

    @Test func readsTheFileTheEnvironmentNames() throws {
        let home = try AWSTestHome()
        defer { home.remove() }
        try home.write(Self.profiles, to: "elsewhere/creds.ini")
        let explicit = home.url.appendingPathComponent("elsewhere/creds.ini").path
        #expect(try AWSCredentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": explicit], homeDirectory: home.url)?.accessKeyId == "DEFAULTKEY")
        #expect(try AWSCredentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": "~/elsewhere/creds.ini", "AWS_PROFILE": "ci"], homeDirectory: home.url)?.accessKeyId == "CIKEY")
    }

    @Test func whatTheEnvironmentAsksForMustExist() throws {
        let home = try AWSTestHome()
        defer { home.remove() }
        let missing = home.url.appendingPathComponent("nope").path
        #expect(throws: S3ConfigurationError("AWS_SHARED_CREDENTIALS_FILE names \(missing), which does not exist")) {
            try AWSCredentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": missing], homeDirectory: home.url)
        }
        let defaultPath = home.url.appendingPathComponent(".aws/credentials").path
        #expect(throws: S3ConfigurationError("AWS_PROFILE is ci, but there is no AWS credentials file at \(defaultPath)")) {
            try AWSCredentials.resolve(environment: ["AWS_PROFILE": "ci"], homeDirectory: home.url)
        }
        try home.write(Self.profiles, to: ".aws/credentials")
        #expect(throws: S3ConfigurationError("the AWS credentials file \(defaultPath) has no profile [prod] (AWS_PROFILE)")) {
            try AWSCredentials.resolve(environment: ["AWS_PROFILE": "prod"], homeDirectory: home.url)
        }
        #expect(throws: S3ConfigurationError("profile [broken] of the AWS credentials file \(defaultPath) needs both aws_access_key_id and aws_secret_access_key")) {
            try AWSCredentials.resolve(environment: ["AWS_PROFILE": "broken"], homeDirectory: home.url)
        }
    }

    @Test(arguments: [
        ("aws_access_key_id = K\n", "line 1: a setting before the first [profile-name] section"),
        ("[default]\naws_secret_access_key SECRETVALUE\n", "line 2: expected [profile-name] or name = value"),
        ("[default\n", "line 1: a section header must look like [profile-name]"),
        ("[default]\n = value\n", "line 2: a setting without a name"),
    ])
    func malformedFilesAreErrorsThatHideTheLine(text: String, reason: String) throws {
        let home = try AWSTestHome()
        defer { home.remove() }
        let file = try home.write(text, to: ".aws/credentials")
        #expect {
            try AWSCredentials.resolve(environment: [:], homeDirectory: home.url)
        } throws: { error in
            let message = (error as? S3ConfigurationError)?.message ?? ""
            return message == "\(file.path) \(reason)" && !message.contains("SECRETVALUE")
        }
    }

    @Test func descriptionHidesTheSecrets() {
        let text = "\(AWSCredentials(accessKeyId: "AKID", secretAccessKey: "SECRET", sessionToken: "TOKEN"))"
        #expect(text == "AWSCredentials(accessKeyId: AKID, secretAccessKey: <hidden>, sessionToken: <hidden>)")
    }
}
