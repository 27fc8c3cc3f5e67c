import AsyncHTTPClient
import DMSCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Fetches remote model archives into the model store, so that only complete, verified files
/// are ever found there.
///
/// - The body streams to a temporary file, renamed into place only when every byte (as many as
///   `Content-Length` announced) has arrived; a cut connection, an error status, a stall longer
///   than `stallTimeout` or a body over `maxBytes` leaves the store as it was.
/// - A later start revalidates a cached copy with a conditional request (`If-None-Match` /
///   `If-Modified-Since` from the validators kept beside it): 304 reuses it, 200 replaces it, and
///   an origin that cannot be reached or answers with an error falls back to the cached copy with
///   a warning. `forceRefresh` skips the cached copy.
/// - Progress is logged at INFO every 5 seconds (`progressInterval`): bytes, percent when the
///   size is known, and rate.
package struct ModelDownloader {
    /// Builds the request for a location, with the given extra headers (conditional ones).
    /// S3 locations sign the request here, headers included.
    typealias RequestBuilder = @Sendable (_ extraHeaders: [(name: String, value: String)]) throws(DMSError) -> HTTPClientRequest

    /// How often a running download logs its progress.
    static let progressInterval: Duration = .seconds(5)

    var httpClient: HTTPClient
    var settings: DownloadSettings
    var logger: Logger

    /// Makes `target` hold the current archive from `source` (described as `name` in messages).
    func fetch(_ name: String, to target: URL, request makeRequest: RequestBuilder) async throws(DMSError) {
        if FileManager.default.fileExists(atPath: target.path) && !settings.forceRefresh {
            let cached = CachedDownload.read(for: target)
            do {
                let replaced = try await download(name, to: target, request: try makeRequest(cached?.conditionalHeaders ?? []), revalidating: true)
                if !replaced {
                    logger.info("cached download is current", metadata: ["source": "\(name)", "path": "\(target.path)"])
                }
            } catch {
                logger.warning(
                    "cannot revalidate the cached download; using the cached copy",
                    metadata: ["source": "\(name)", "path": "\(target.path)", "reason": "\(error.message)"])
            }
            return
        }
        _ = try await download(name, to: target, request: try makeRequest([]), revalidating: false)
    }

    /// Downloads into `target`. Returns false when the origin answered 304 Not Modified to a
    /// revalidation (the cached copy stays), true when a new copy was written.
    private func download(_ name: String, to target: URL, request: HTTPClientRequest, revalidating: Bool) async throws(DMSError) -> Bool {
        let directory = target.deletingLastPathComponent()
        try Self.createDirectory(directory)
        let temporary = directory.appendingPathComponent(ModelStore.temporaryPrefix + UUID().uuidString)
        defer { try? FileManager.default.removeItem(at: temporary) }
        logger.info(revalidating ? "revalidating cached download" : "downloading model", metadata: ["source": "\(name)"])
        let validators: CachedDownload
        do {
            let response = try await httpClient.execute(request, timeout: .hours(24))
            if revalidating && response.status == .notModified {
                return false
            }
            guard response.status == .ok else {
                let detail = Self.errorDetail(try? await response.body.collect(upTo: 16 << 10))
                throw DMSError(.invalidModel, "\(name): the server answered \(response.status.code) \(response.status.reasonPhrase)\(detail)")
            }
            let expectedBytes = response.headers.first(name: "Content-Length").flatMap(Int64.init)
            if let expectedBytes, expectedBytes > settings.maxBytes {
                throw DMSError(.invalidModel, "\(name): \(expectedBytes) bytes is over the download limit of \(settings.maxBytes) bytes")
            }
            let received = try await write(response.body, to: temporary, name: name, expectedBytes: expectedBytes)
            if let expectedBytes, received != expectedBytes {
                throw DMSError(.invalidModel, "\(name): the connection ended after \(received) of \(expectedBytes) bytes")
            }
            validators = CachedDownload(url: name, etag: response.headers.first(name: "ETag"), lastModified: response.headers.first(name: "Last-Modified"))
        } catch let error as DMSError {
            throw error
        } catch {
            throw DMSError(.invalidModel, "\(name): download failed (\(Self.describe(error)))", cause: error)
        }
        guard rename(temporary.path, target.path) == 0 else {
            throw DMSError(.internalError, "cannot move the download to \(target.path): \(String(cString: strerror(errno)))")
        }
        do {
            try validators.write(for: target)
        } catch {
            logger.warning("cannot keep the download's validators; the next start downloads again", metadata: ["path": "\(target.path)", "reason": "\(error)"])
        }
        logger.info("downloaded model", metadata: ["source": "\(name)", "path": "\(target.path)"])
        return true
    }

    /// Streams the body to `file`, logging progress; returns the byte count.
    private func write(_ body: HTTPClientResponse.Body, to file: URL, name: String, expectedBytes: Int64?) async throws -> Int64 {
        guard FileManager.default.createFile(atPath: file.path, contents: nil), let handle = FileHandle(forWritingAtPath: file.path) else {
            throw DMSError(.internalError, "cannot create \(file.path)")
        }
        defer { try? handle.close() }
        let clock = ContinuousClock()
        let started = clock.now
        var lastReport = started
        var received: Int64 = 0
        for try await chunk in body {
            received += Int64(chunk.readableBytes)
            guard received <= settings.maxBytes else {
                throw DMSError(.invalidModel, "\(name): larger than the download limit of \(settings.maxBytes) bytes")
            }
            try handle.write(contentsOf: Data(chunk.readableBytesView))
            if clock.now - lastReport >= Self.progressInterval {
                lastReport = clock.now
                logProgress(name, received: received, expected: expectedBytes, elapsed: lastReport - started)
            }
        }
        try handle.synchronize()
        logProgress(name, received: received, expected: expectedBytes, elapsed: clock.now - started)
        return received
    }

    private func logProgress(_ name: String, received: Int64, expected: Int64?, elapsed: Duration) {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var metadata: Logger.Metadata = [
            "source": "\(name)", "bytes": "\(received)",
            "rate": "\(String(format: "%.1f", seconds > 0 ? Double(received) / seconds / 1_048_576 : 0)) MiB/s",
        ]
        if let expected, expected > 0 {
            metadata["percent"] = "\(String(format: "%.1f", Double(received) * 100 / Double(expected)))"
        }
        logger.info("download progress", metadata: metadata)
    }

    /// The code and message of an S3-style XML error body (`<Code>…</Code><Message>…</Message>`),
    /// as `" (Code: Message)"`, or nothing for other bodies.
    package static func errorDetail(_ body: ByteBuffer?) -> String {
        guard let body else { return "" }
        let text = String(buffer: body)
        func element(_ name: String) -> String? {
            guard let start = text.range(of: "<\(name)>"), let end = text.range(of: "</\(name)>", range: start.upperBound..<text.endIndex) else {
                return nil
            }
            return String(text[start.upperBound..<end.lowerBound])
        }
        guard let code = element("Code") else { return "" }
        return element("Message").map { " (\(code): \($0))" } ?? " (\(code))"
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .readTimeout, .deadlineExceeded: return "the server stopped sending data (timed out)"
            case .connectTimeout: return "connecting timed out"
            case .remoteConnectionClosed: return "the server closed the connection"
            default: return "\(error)"
            }
        }
        if let error = error as? HTTPParserError, error == .invalidEOFState {
            return "the connection closed before the whole body arrived"
        }
        return "\(error)"
    }

    private static func createDirectory(_ url: URL) throws(DMSError) {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw DMSError(.internalError, "cannot create the model store folder \(url.path): \(error)", cause: error)
        }
    }
}
