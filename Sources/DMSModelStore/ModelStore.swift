import AsyncHTTPClient
import Crypto
import DMSCore
import Foundation
import Logging

/// The on-disk cache of downloaded archives and unpacked models.
///
/// Layout under `root`:
/// - `downloads/<sha256 of the URL, 16 hex>-<file name>`: archives fetched over HTTP, so two URLs
///   that end in the same file name never collide, each with its origin's validators beside it
///   (`….validators.json`) for revalidation;
/// - `unpacked/<sha256 of the archive's bytes>/`: unpacked models, keyed by content so a changed
///   archive is never served stale.
///
/// Every file and folder is written under a temporary name and renamed into place only when
/// complete, so a crash never leaves a half-written entry that a later start would trust, and
/// two servers starting at once on one store each produce a complete copy and keep one.
public struct ModelStore: Sendable {
    public var root: URL
    public var downloadSettings: DownloadSettings

    public init(root: URL, downloadSettings: DownloadSettings = DownloadSettings()) {
        self.root = root
        self.downloadSettings = downloadSettings
    }

    /// The default store: `$DMS_MODEL_STORE`, else `$XDG_CACHE_HOME/deep-model-server`, else
    /// `~/.cache/deep-model-server`.
    public static var defaultRoot: URL {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["DMS_MODEL_STORE"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit)
        }
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty {
            return URL(fileURLWithPath: cache).appendingPathComponent("deep-model-server")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/deep-model-server")
    }

    /// Fetches (if needed) and unpacks the model at `location`, returning its artifacts, found
    /// by the formats of `engines` (see `ModelArchive.locateArtifacts`). A model that is one file
    /// (a bare `.onnx`) is served as it is (see `ModelArchive.singleFileArtifacts`).
    public func prepare(
        _ location: ModelLocation, engines: [any InferenceEngine], httpClient: HTTPClient, logger: Logger
    ) async throws(DMSError) -> ModelArtifacts {
        let archive: URL
        switch location {
        case .file(let url):
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                throw DMSError(.invalidModel, "\(url.path): no such file")
            }
            if isDirectory.boolValue {
                return try ModelArchive.locateArtifacts(in: url, engines: engines)
            }
            archive = url
        case .http(let url):
            archive = try await download(url, httpClient: httpClient, logger: logger)
        case .s3(let object):
            archive = try await download(object, httpClient: httpClient, logger: logger)
        }
        if let artifacts = try ModelArchive.singleFileArtifacts(archive, engines: engines) {
            return artifacts
        }
        let folder = try unpackedFolder(for: archive, logger: logger)
        return try ModelArchive.locateArtifacts(in: folder, engines: engines)
    }

    /// The cache path a remote location (an HTTP URL, or an `s3://` URI as a URL) downloads to.
    public func downloadPath(for url: URL) -> URL {
        let digest = SHA256.hash(data: Data(url.absoluteString.utf8)).hexString.prefix(16)
        let fileName = url.lastPathComponent.isEmpty || url.lastPathComponent == "/" ? "model" : url.lastPathComponent
        let safeName = String(fileName.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
        return root.appendingPathComponent("downloads").appendingPathComponent("\(digest)-\(safeName)")
    }

    private func download(_ url: URL, httpClient: HTTPClient, logger: Logger) async throws(DMSError) -> URL {
        let target = downloadPath(for: url)
        let downloader = ModelDownloader(httpClient: httpClient, settings: downloadSettings, logger: logger)
        try await downloader.fetch(url.absoluteString, to: target) { headers throws(DMSError) in
            var request = HTTPClientRequest(url: url.absoluteString)
            for header in headers { request.headers.add(name: header.name, value: header.value) }
            return request
        }
        return target
    }

    /// Downloads an S3 object. The configuration (region, endpoint, credentials) is read from
    /// the environment as AWS's tools do; each request, conditional headers included, is signed
    /// with Signature Version 4, or sent anonymously when no credentials are set.
    private func download(_ object: S3ObjectLocation, httpClient: HTTPClient, logger: Logger) async throws(DMSError) -> URL {
        let configuration: S3Configuration
        do {
            configuration = try S3Configuration.resolve(environment: ProcessInfo.processInfo.environment)
        } catch {
            throw DMSError(.invalidModel, "\(object): \(error.message)")
        }
        guard let identity = URL(string: object.description) else {
            throw DMSError(.invalidModel, "\(object): not a valid location")
        }
        let target = downloadPath(for: identity)
        let downloader = ModelDownloader(httpClient: httpClient, settings: downloadSettings, logger: logger)
        try await downloader.fetch(object.description, to: target) { headers throws(DMSError) in
            let signed: S3ObjectRequest
            do throws(S3ConfigurationError) {
                signed = try S3RequestBuilder(configuration: configuration).getObject(object, extraHeaders: headers)
            } catch {
                throw DMSError(.invalidModel, "\(object): \(error.message)")
            }
            var request = HTTPClientRequest(url: signed.url.absoluteString)
            for header in signed.headers { request.headers.add(name: header.name, value: header.value) }
            return request
        }
        return target
    }

    /// The unpacked folder for an archive, unpacking it first when this content was never seen.
    public func unpackedFolder(for archive: URL, logger: Logger) throws(DMSError) -> URL {
        let digest = try Self.sha256(of: archive)
        let unpackedRoot = root.appendingPathComponent("unpacked")
        let target = unpackedRoot.appendingPathComponent(digest)
        if FileManager.default.fileExists(atPath: target.path) {
            logger.debug("using cached unpacked model", metadata: ["archive": "\(archive.path)", "path": "\(target.path)"])
            return target
        }
        try createDirectory(unpackedRoot)
        let temporary = unpackedRoot.appendingPathComponent(Self.temporaryPrefix + UUID().uuidString)
        defer { try? FileManager.default.removeItem(at: temporary) }
        try ModelArchive.unpack(archive, to: temporary)
        try moveIntoPlace(temporary, target)
        logger.info("unpacked model archive", metadata: ["archive": "\(archive.path)", "path": "\(target.path)"])
        return target
    }

    /// The prefix of every file and folder written under a temporary name.
    static let temporaryPrefix = ".partial-"

    /// Removes the temporary files and folders in the store (downloads and unpacking cut short
    /// by a crash or a kill) and returns their paths. Only safe when no other server uses the
    /// store: see `ModelStoreLock`.
    func removeLeftovers(logger: Logger) -> [String] {
        var removed: [String] = []
        for folder in ["downloads", "unpacked"].map(root.appendingPathComponent) {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            for name in names.sorted() where name.hasPrefix(Self.temporaryPrefix) {
                let leftover = folder.appendingPathComponent(name)
                do {
                    try FileManager.default.removeItem(at: leftover)
                    removed.append(leftover.path)
                } catch {
                    logger.warning("cannot remove a temporary file from the model store", metadata: ["path": "\(leftover.path)", "reason": "\(error)"])
                }
            }
        }
        return removed
    }

    /// Renames a finished temporary file or folder to its final name. When another process got
    /// there first, its complete copy is kept and ours is dropped.
    private func moveIntoPlace(_ temporary: URL, _ target: URL) throws(DMSError) {
        if rename(temporary.path, target.path) == 0 { return }
        let error = errno
        if FileManager.default.fileExists(atPath: target.path) { return }
        throw DMSError(.internalError, "cannot move \(temporary.path) to \(target.path): \(String(cString: strerror(error)))")
    }

    private func createDirectory(_ url: URL) throws(DMSError) {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw DMSError(.internalError, "cannot create the model store folder \(url.path): \(error)", cause: error)
        }
    }

    static func sha256(of file: URL) throws(DMSError) -> String {
        do {
            let handle = try FileHandle(forReadingFrom: file)
            defer { try? handle.close() }
            var hasher = SHA256()
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
            }
            return hasher.finalize().hexString
        } catch {
            throw DMSError(.invalidModel, "\(file.path): cannot read (\(error))", cause: error)
        }
    }
}

extension Digest {
    var hexString: String {
        map { String(format: "%02x", $0) }.joined()
    }
}
