import DMSCore
import Foundation

/// The locations models may be registered from while the server runs (`--allowed-urls`): a
/// list of prefixes, matched against a location's canonical form. Models named on the command
/// line are the operator's choice and are not checked.
///
/// The default allows local files only (`file://`): registering from a URL is how a model
/// server is made to fetch what an attacker chooses (TorchServe's CVE-2023-43654), so remote
/// sources must be named. Canonical forms: `file://` + the absolute path with `..` and
/// symbolic links resolved, so a path cannot climb out of an allowed folder; `http(s)://host[:port]/path?query`
/// with scheme and host in lower case and without user information, so
/// `https://allowed.example@elsewhere.example/` is matched as `elsewhere.example`; and
/// `s3://bucket/key` (or `s3://host:port/bucket/key`). A prefix matches at a boundary only:
/// `https://models.example.com` allows `https://models.example.com/a.model` but not
/// `https://models.example.com.elsewhere.example/` — end a prefix with `/` to allow below a path.
public struct LocationAllowList: Sendable, Equatable, CustomStringConvertible {
    /// The prefixes, in canonical form.
    public let prefixes: [String]

    /// Local files anywhere, nothing remote.
    public static let localFilesOnly = LocationAllowList(canonicalPrefixes: ["file://"])

    private init(canonicalPrefixes: [String]) {
        self.prefixes = canonicalPrefixes
    }

    /// Reads prefixes as `--allowed-urls` takes them: URLs or URL prefixes (`https://models.example.com/`,
    /// `s3://bucket/`, `file:///srv/models/`), a bare scheme for everything from it (`https://`), or a
    /// local folder (`/srv/models`).
    public init(parsing patterns: [String]) throws(DMSError) {
        prefixes = try patterns.map { pattern throws(DMSError) in
            let trimmed = pattern.trimmingCharacters(in: .whitespaces)
            let lowered = trimmed.lowercased()
            for scheme in ["file://", "http://", "https://", "s3://"] where lowered == scheme {
                return scheme
            }
            guard !trimmed.isEmpty, let location = try? ModelLocation(parsing: trimmed) else {
                throw DMSError(.invalidInput, "--allowed-urls '\(pattern)': expected a file path, or a file://, http://, https:// or s3:// URL or prefix")
            }
            let canonical = Self.canonical(location)
            // A folder given without its final slash still means below it.
            if case .file(let url) = location, (try? url.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true, !canonical.hasSuffix("/") {
                return canonical + "/"
            }
            return canonical
        }
    }

    /// Whether `location` lies under one of the prefixes.
    public func allows(_ location: ModelLocation) -> Bool {
        let canonical = Self.canonical(location)
        return prefixes.contains { prefix in
            guard canonical.hasPrefix(prefix) else { return false }
            if canonical.count == prefix.count || prefix.hasSuffix("/") { return true }
            let next = canonical[canonical.index(canonical.startIndex, offsetBy: prefix.count)]
            return next == "/" || next == "?" || next == "#"
        }
    }

    public var description: String {
        prefixes.isEmpty ? "nothing" : prefixes.joined(separator: ", ")
    }

    /// The form a location is matched in (see the type's documentation).
    public static func canonical(_ location: ModelLocation) -> String {
        switch location {
        case .file(let url):
            return "file://" + resolvingSymbolicLinks(url.standardizedFileURL.path)
        case .http(let url):
            // Dot segments resolved: `https://host/allowed/../other` is `https://host/other`.
            let url = url.standardized
            guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return url.absoluteString }
            components.user = nil
            components.password = nil
            components.scheme = components.scheme?.lowercased()
            components.host = components.host?.lowercased()
            return components.string ?? url.absoluteString
        case .s3(let object):
            return object.description
        }
    }

    /// `path` with every symbolic link resolved, in the part of it that exists (Foundation's
    /// `resolvingSymlinksInPath` leaves a path alone when its last part does not exist).
    static func resolvingSymbolicLinks(_ path: String) -> String {
        var existing = path
        var rest: [String] = []
        while !existing.isEmpty, existing != "/" {
            if let resolved = realpath(existing, nil) {
                defer { free(resolved) }
                return rest.reversed().reduce(URL(fileURLWithPath: String(cString: resolved))) { $0.appendingPathComponent($1) }.path
            }
            rest.append((existing as NSString).lastPathComponent)
            existing = (existing as NSString).deletingLastPathComponent
        }
        return path
    }
}
