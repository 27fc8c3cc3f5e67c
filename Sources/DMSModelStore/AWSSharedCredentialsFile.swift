import Foundation

/// The profiles of an AWS shared credentials file (`~/.aws/credentials`), an INI file:
///
/// ```ini
/// [default]
/// aws_access_key_id = AKIA...
/// aws_secret_access_key = ...
///
/// [other]
/// aws_access_key_id = ...
/// ```
///
/// Read as the AWS CLI and SDKs read it: `[name]` starts a profile, `key = value` (or `key: value`)
/// sets a setting whose name is case-insensitive, lines starting with `#` or `;` are comments,
/// and indented lines after a setting continue it (nested settings such as `s3 =` blocks, which
/// credentials never use, so they are skipped). A later section of the same name adds to the
/// earlier one.
public struct AWSSharedCredentialsFile: Sendable, Equatable {
    /// Settings by profile name, then by lowercased setting name.
    public var profiles: [String: [String: String]]

    /// Parses the text of a credentials file; `path` only names the file in errors.
    ///
    /// Errors give the line number but never the line, which may hold a secret.
    public init(parsing text: String, path: String) throws(S3ConfigurationError) {
        var profiles: [String: [String: String]] = [:]
        var current: String?
        var lastLineWasSetting = false
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") {
                continue
            }
            if rawLine.first?.isWhitespace == true, lastLineWasSetting {
                continue
            }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else {
                    throw S3ConfigurationError("\(path) line \(index + 1): a section header must look like [profile-name]")
                }
                let name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                if profiles[name] == nil {
                    profiles[name] = [:]
                }
                current = name
                lastLineWasSetting = false
                continue
            }
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw S3ConfigurationError("\(path) line \(index + 1): expected [profile-name] or name = value")
            }
            guard let profile = current else {
                throw S3ConfigurationError("\(path) line \(index + 1): a setting before the first [profile-name] section")
            }
            let name = line[..<separator].trimmingCharacters(in: .whitespaces).lowercased()
            guard !name.isEmpty else {
                throw S3ConfigurationError("\(path) line \(index + 1): a setting without a name")
            }
            profiles[profile, default: [:]][name] = line[line.index(after: separator)...].trimmingCharacters(in: .whitespaces)
            lastLineWasSetting = true
        }
        self.profiles = profiles
    }
}
