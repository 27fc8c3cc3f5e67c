import DMSCore
import Foundation

/// The validators an origin gave for a cached download (`ETag`, `Last-Modified`), kept beside
/// the file as `<file>.validators.json` so a later start can revalidate with a conditional request.
struct CachedDownload: Codable, Equatable {
    var url: String
    var etag: String?
    var lastModified: String?

    static func validatorsPath(for file: URL) -> URL {
        file.deletingLastPathComponent().appendingPathComponent(file.lastPathComponent + ".validators.json")
    }

    static func read(for file: URL) -> CachedDownload? {
        guard let data = try? Data(contentsOf: validatorsPath(for: file)) else { return nil }
        return try? JSONDecoder().decode(CachedDownload.self, from: data)
    }

    /// Writes the validators under a temporary name and renames them into place.
    func write(for file: URL) throws {
        let target = Self.validatorsPath(for: file)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(ModelStore.temporaryPrefix + UUID().uuidString)
        try JSONEncoder().encode(self).write(to: temporary)
        guard rename(temporary.path, target.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw DMSError(.internalError, "cannot write \(target.path): \(String(cString: strerror(errno)))")
        }
    }

    /// The conditional request headers that ask the origin whether the copy is still current.
    var conditionalHeaders: [(name: String, value: String)] {
        var headers: [(String, String)] = []
        if let etag { headers.append(("If-None-Match", etag)) }
        if let lastModified { headers.append(("If-Modified-Since", lastModified)) }
        return headers
    }
}
