import DMSCore
import Foundation
import ZIPFoundation

/// Packs a model folder into a `.model` archive (what `deep-model-export` does).
public enum ModelArchiveWriter {
    /// Writes `destination` as a zip of every regular file under `folder` (hidden files and a
    /// `MANIFEST.json` left in the folder excepted), each of `extraFiles` at the archive's top
    /// level under its own name (a custom service's file), plus `manifest` as `MANIFEST.json`.
    /// The archive is written under a temporary name and renamed when complete.
    public static func write(folder: URL, extraFiles: [URL] = [], manifest: JSONValue, to destination: URL) throws(DMSError) {
        let temporary = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).partial-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: temporary) }
        do {
            let archive = try Archive(url: temporary, accessMode: .create)
            for relativePath in try filesToPack(in: folder) {
                try archive.addEntry(with: relativePath, relativeTo: folder, compressionMethod: .deflate)
            }
            for file in extraFiles {
                try archive.addEntry(with: file.lastPathComponent, relativeTo: file.deletingLastPathComponent(), compressionMethod: .deflate)
            }
            let manifestBytes = Data(manifest.serialized())
            try archive.addEntry(with: "MANIFEST.json", type: .file, uncompressedSize: Int64(manifestBytes.count), compressionMethod: .deflate) { position, size in
                manifestBytes.subdata(in: Int(position)..<Int(position) + size)
            }
        } catch {
            throw DMSError(.internalError, "cannot write \(destination.path): \(error)", cause: error)
        }
        guard rename(temporary.path, destination.path) == 0 else {
            throw DMSError(.internalError, "cannot move the archive to \(destination.path): \(String(cString: strerror(errno)))")
        }
    }

    /// Paths of the regular files under `folder`, relative to it, sorted.
    static func filesToPack(in folder: URL) throws -> [String] {
        let keys: [URLResourceKey] = [.isRegularFileKey, .isSymbolicLinkKey]
        guard let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: keys, options: [.skipsHiddenFiles]) else {
            return []
        }
        let base = folder.standardizedFileURL.path
        var paths: [String] = []
        for case let url as URL in enumerator {
            let values = try url.resourceValues(forKeys: Set(keys))
            guard values.isRegularFile == true, values.isSymbolicLink != true else { continue }
            let path = url.standardizedFileURL.path
            guard path.hasPrefix(base + "/") else { continue }
            let relative = String(path.dropFirst(base.count + 1))
            if relative != "MANIFEST.json" { paths.append(relative) }
        }
        return paths.sorted()
    }
}
