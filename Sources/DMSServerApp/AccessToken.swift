import DMSCore
import Foundation

/// Reads a bearer token from where the command line says: the option itself (visible to other
/// users in the process list, so meant for trials), a file (`--…-token-file`, first line), or an
/// environment variable. At most one of the option and the file; the variable is the fallback.
enum AccessToken {
    static func resolve(option: String?, file: String?, environmentVariable: String, optionName: String) throws(DMSError) -> String? {
        if option != nil && file != nil {
            throw DMSError(.invalidInput, "give \(optionName) or \(optionName)-file, not both")
        }
        let token: String?
        let source: String
        if let option {
            (token, source) = (option, optionName)
        } else if let file {
            guard let contents = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw DMSError(.invalidInput, "\(optionName)-file \(file): cannot read the file")
            }
            (token, source) = (contents.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? "", "\(optionName)-file \(file)")
        } else if let value = ProcessInfo.processInfo.environment[environmentVariable] {
            (token, source) = (value, "$\(environmentVariable)")
        } else {
            return nil
        }
        guard let token = token?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw DMSError(.invalidInput, "\(source): the token is empty")
        }
        guard token.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) else {
            throw DMSError(.invalidInput, "\(source): the token must be printable ASCII without spaces")
        }
        return token
    }

    /// Whether `host` binds loopback only: `localhost`, `::1`, or an IPv4 address in
    /// 127.0.0.0/8 (four numbers, so a host name such as `127.example.com` is not taken for one).
    static func isLoopback(_ host: String) -> Bool {
        if ["localhost", "::1", "[::1]"].contains(host) { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.first == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
