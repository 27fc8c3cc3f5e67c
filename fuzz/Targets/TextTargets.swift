import DMSCore
import DMSLogging
import DMSModelStore
import DMSServerApp
import Foundation
import NIOCore

// Targets for text from the command line and from the places models are downloaded from.

extension FuzzTarget {
    static let modelSources = FuzzTarget(
        "model-sources",
        "model locations (paths, file://, http(s)://, s3:// with endpoints), --allow-model-location patterns, AWS shared credentials files and environments, S3 request signing, S3 XML error bodies"
    ) { input in
        let kind = input.byte() % 5
        let text = input.restAsText()
        switch kind {
        case 0:
            guard let location = try? ModelLocation(parsing: text, relativeTo: URL(fileURLWithPath: "/models")) else { return }
            _ = LocationAllowList.canonical(location)
            if let allowList = try? LocationAllowList(parsing: text.split(separator: " ").map(String.init)) { _ = allowList.allows(location) }
        case 1:
            guard let location = try? S3ObjectLocation(parsing: text) else { return }
            let again = try? S3ObjectLocation(parsing: location.description)
            precondition(again == location, "s3 location '\(text)' reads back from '\(location.description)' as \(again.map(String.init(describing:)) ?? "an error")")
            let configuration = S3Configuration(
                region: "eu-west-1", credentials: AWSCredentials(accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: "token"))
            _ = try? S3RequestBuilder(configuration: configuration).getObject(location, date: Date(timeIntervalSince1970: 1_700_000_000))
        case 2:
            _ = try? AWSSharedCredentialsFile(parsing: text, path: "credentials")
        case 3:
            var environment: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let pair = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                environment[String(pair[0])] = pair.count > 1 ? String(pair[1]) : ""
            }
            _ = try? S3Configuration.resolve(environment: environment, homeDirectory: URL(fileURLWithPath: "/nonexistent"))
        default:
            _ = ModelDownloader.errorDetail(ByteBuffer(string: text))
        }
    }

    static let commandLine = FuzzTarget(
        "command-line",
        "command-line values: --models NAME=LOCATION pairs, per-model settings (NAME=N), --log-rotation-time, --log-level, bearer tokens"
    ) { input in
        let kind = input.byte() % 5
        let text = input.restAsText()
        let arguments = text.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        switch kind {
        case 0:
            _ = try? ModelArgumentParser.parse(arguments)
        case 1:
            if let setting = try? PerModelSetting(parsing: arguments, option: "--workers", defaultValue: 1, range: 1...64, models: ["a", "b=c"]) {
                precondition((1...64).contains(setting.value(for: "a")), "a per-model setting outside its range")
            }
        case 2:
            guard let schedule = try? LogRotationSchedule(parsing: text) else { return }
            let again = try? LogRotationSchedule(parsing: schedule.description)
            precondition(again?.description == schedule.description, "rotation '\(text)' does not read back from '\(schedule.description)'")
        case 3:
            _ = try? DMSLogLevel(parsing: text)
        default:
            if let token = BearerToken.parse(text) { precondition(BearerToken.matches(token, token), "a token does not match itself") }
        }
    }
}
