import DMSCore
import Foundation

/// Where a model archive comes from, parsed from the LOCATION of `--models NAME=LOCATION`.
public enum ModelLocation: Sendable, Equatable, CustomStringConvertible {
    /// A `.model` file or an unpacked model folder on this machine.
    case file(URL)
    /// An `http://` or `https://` URL, downloaded once into the model store.
    case http(URL)
    /// An S3 object (`s3://bucket/key` or the seed's `s3://host:port/bucket/key`), downloaded
    /// once into the model store with a signed (or, without credentials, anonymous) request.
    case s3(S3ObjectLocation)

    /// Parses a location: a plain path, a `file://` URI (absolute `file:///…` or the seed's
    /// relative `file://models/resnet-18` form), an `http(s)://` URL, or an `s3://` URI.
    ///
    /// A local path without the `.model` extension also finds `PATH.model`, as the seed's
    /// examples (`file://models/resnet-18`) expect.
    public init(parsing text: String, relativeTo base: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) throws(DMSError) {
        let lowered = text.lowercased()
        if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
            guard let url = URL(string: text), url.host?.isEmpty == false else {
                throw DMSError(.invalidInput, "'\(text)' is not a valid URL")
            }
            self = .http(url)
        } else if lowered.hasPrefix("s3://") {
            do {
                self = .s3(try S3ObjectLocation(parsing: text))
            } catch {
                throw DMSError(.invalidInput, error.message)
            }
        } else if lowered.hasPrefix("file://") {
            let path = String(text.dropFirst("file://".count)).removingPercentEncoding ?? String(text.dropFirst("file://".count))
            self = .file(Self.localURL(path, base: base))
        } else if let scheme = text.range(of: "://") {
            throw DMSError(.unsupported, "'\(text)': the scheme '\(text[..<scheme.lowerBound])' is not supported; use a path, file://, http://, https:// or s3://")
        } else {
            self = .file(Self.localURL(text, base: base))
        }
    }

    private static func localURL(_ path: String, base: URL) -> URL {
        let expanded = (path as NSString).expandingTildeInPath
        let url = expanded.hasPrefix("/") ? URL(fileURLWithPath: expanded) : base.appendingPathComponent(expanded)
        let fileManager = FileManager.default
        if !fileManager.fileExists(atPath: url.path), url.pathExtension != "model", fileManager.fileExists(atPath: url.path + ".model") {
            return URL(fileURLWithPath: url.path + ".model")
        }
        return url.standardizedFileURL
    }

    public var description: String {
        switch self {
        case .file(let url): url.path
        case .http(let url): url.absoluteString
        case .s3(let location): location.description
        }
    }
}
