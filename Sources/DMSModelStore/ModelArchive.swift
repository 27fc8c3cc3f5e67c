import DMSCore
import Foundation
import ZIPFoundation

/// Reading `.model` archives: a zip of `signature.json`, one `*-symbol.json`, one `*.params`,
/// optionally `synset.txt`, `MANIFEST.json` and other files, possibly all under one top-level
/// folder.
///
/// Unpacking refuses anything that could write outside the target folder (absolute paths, `..`
/// components, links), duplicate names, and archives whose entry count or unpacked size is
/// beyond `ArchiveLimits`, counting the bytes actually inflated rather than trusting the headers.
public enum ModelArchive {
    /// Unpacks `archiveURL` into `destination`, which must not exist yet.
    public static func unpack(_ archiveURL: URL, to destination: URL, limits: ArchiveLimits = ArchiveLimits()) throws(DMSError) {
        let name = archiveURL.lastPathComponent
        let archive: Archive
        do {
            archive = try Archive(url: archiveURL, accessMode: .read)
        } catch {
            throw DMSError(.invalidModel, "\(name): not a readable zip archive (\(error))", cause: error)
        }
        let entries = try validatedEntries(archive, archiveName: name, limits: limits)
        let fileManager = FileManager.default
        do {
            try fileManager.createDirectory(at: destination, withIntermediateDirectories: true)
        } catch {
            throw DMSError(.internalError, "cannot create \(destination.path): \(error)", cause: error)
        }
        var unpackedBytes: UInt64 = 0
        for (entry, relativePath) in entries {
            let target = destination.appendingPathComponent(relativePath)
            if entry.type == .directory {
                try createDirectory(target)
                continue
            }
            try createDirectory(target.deletingLastPathComponent())
            guard fileManager.createFile(atPath: target.path, contents: nil),
                let handle = FileHandle(forWritingAtPath: target.path)
            else {
                throw DMSError(.internalError, "cannot create \(target.path)")
            }
            defer { try? handle.close() }
            var entryBytes: UInt64 = 0
            do {
                let checksum = try archive.extract(entry, skipCRC32: false) { chunk in
                    entryBytes += UInt64(chunk.count)
                    unpackedBytes += UInt64(chunk.count)
                    guard entryBytes <= entry.uncompressedSize, unpackedBytes <= limits.maxUnpackedBytes else {
                        throw DMSError(.invalidModel, "\(name): '\(entry.path)' unpacks to more bytes than its header or the limit (\(limits.maxUnpackedBytes) bytes) allows")
                    }
                    try handle.write(contentsOf: chunk)
                }
                guard checksum == entry.checksum else {
                    throw DMSError(.invalidModel, "\(name): '\(entry.path)' is corrupt (checksum mismatch)")
                }
            } catch let error as DMSError {
                throw error
            } catch {
                throw DMSError(.invalidModel, "\(name): cannot unpack '\(entry.path)': \(error)", cause: error)
            }
        }
    }

    private static func createDirectory(_ url: URL) throws(DMSError) {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw DMSError(.internalError, "cannot create \(url.path): \(error)", cause: error)
        }
    }

    /// The entries to unpack with their safe relative paths, after every check that needs no
    /// decompression.
    private static func validatedEntries(_ archive: Archive, archiveName name: String, limits: ArchiveLimits) throws(DMSError) -> [(Entry, String)] {
        var result: [(Entry, String)] = []
        var seen: Set<String> = []
        var declaredBytes: UInt64 = 0
        var count = 0
        for entry in archive {
            count += 1
            guard count <= limits.maxEntryCount else {
                throw DMSError(.invalidModel, "\(name): more than \(limits.maxEntryCount) entries")
            }
            let path = entry.path
            guard entry.type != .symlink else {
                throw DMSError(.invalidModel, "\(name): entry '\(path)' is a link; links are not allowed in model archives")
            }
            guard let relative = safeRelativePath(path) else {
                throw DMSError(.invalidModel, "\(name): entry '\(path)' would be written outside the model folder")
            }
            if relative.split(separator: "/").first == "__MACOSX" { continue }
            guard seen.insert(relative).inserted else {
                throw DMSError(.invalidModel, "\(name): entry '\(path)' appears more than once")
            }
            declaredBytes += entry.uncompressedSize
            guard declaredBytes <= limits.maxUnpackedBytes else {
                throw DMSError(.invalidModel, "\(name): unpacks to more than \(limits.maxUnpackedBytes) bytes")
            }
            result.append((entry, relative))
        }
        return result
    }

    /// The entry path as a relative path with no empty, `.` or `..` components, or nil when it
    /// is absolute or climbs out.
    static func safeRelativePath(_ path: String) -> String? {
        let normalized = path.replacingOccurrences(of: "\\", with: "/")
        guard !normalized.hasPrefix("/"), !normalized.contains(":") || !normalized.prefix(2).hasSuffix(":") else { return nil }
        var components: [Substring] = []
        for component in normalized.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..": return nil
            default: components.append(component)
            }
        }
        guard !components.isEmpty else { return nil }
        return components.joined(separator: "/")
    }

    /// Finds the model files in an unpacked archive folder and reads its signature, labels and
    /// manifest. Errors name the file and the problem.
    ///
    /// The engine is the one whose format the manifest's `Model Format` names, else the first of
    /// `engines` whose format recognises the folder's files (`ModelFormat.locate`), formats whose
    /// files the manifest names first. A model without `signature.json` gets its signature from
    /// its engine when its format describes itself (ONNX).
    ///
    /// With `isExportSource`, the folder is a user's model folder about to be packed: it is read
    /// as it is (no descent into a single subfolder) and a `MANIFEST.json` in it is ignored,
    /// since the export writes its own.
    public static func locateArtifacts(
        in directory: URL, isExportSource: Bool = false, engines: [any InferenceEngine]
    ) throws(DMSError) -> ModelArtifacts {
        let root = isExportSource ? directory : try modelRoot(directory)
        let names = try fileNames(in: root)
        let manifest = try names.contains("MANIFEST.json") && !isExportSource ? ModelManifest(contentsOf: root.appendingPathComponent("MANIFEST.json")) : nil

        let signatureName = manifest?.signatureFile ?? "signature.json"
        let (engine, engineFiles) = try recognise(
            root: root, names: names, manifest: manifest, engines: engines, missingSignature: names.contains(signatureName) ? nil : signatureName)
        let signature: ModelSignature
        if names.contains(signatureName) {
            signature = try readSignatureFile(root.appendingPathComponent(signatureName))
        } else if engine.format.describesItself {
            signature = try engine.signature(of: engineFiles)
        } else {
            throw DMSError(.invalidModel, "the model has no '\(signatureName)'")
        }
        var labels: [String]?
        if names.contains("synset.txt") {
            labels = try readLabels(root.appendingPathComponent("synset.txt"))
        }
        return ModelArtifacts(directory: root, signature: signature, engineFiles: engineFiles, labels: labels, manifestService: manifest?.serviceName)
    }

    /// The artifacts of a model that is one file (a bare `.onnx`, see
    /// `ModelFormat.singleFileExtension`), or nil when no engine serves such files: its signature
    /// from `NAME.signature.json` beside it, else from the model itself; labels from
    /// `NAME.synset.txt` beside it, if any.
    public static func singleFileArtifacts(_ file: URL, engines: [any InferenceEngine]) throws(DMSError) -> ModelArtifacts? {
        let fileExtension = file.pathExtension.lowercased()
        guard let engine = engines.first(where: { $0.format.singleFileExtension == fileExtension }),
            let engineFiles = try engine.format.locate(in: file.deletingLastPathComponent(), names: [file.lastPathComponent], manifestNames: [:])
        else { return nil }
        let stem = file.deletingPathExtension().lastPathComponent
        let folder = file.deletingLastPathComponent()
        let signatureFile = folder.appendingPathComponent("\(stem).signature.json")
        let synsetFile = folder.appendingPathComponent("\(stem).synset.txt")
        let signature =
            FileManager.default.fileExists(atPath: signatureFile.path)
            ? try readSignatureFile(signatureFile) : try engine.signature(of: engineFiles)
        let labels = FileManager.default.fileExists(atPath: synsetFile.path) ? try readLabels(synsetFile) : nil
        return ModelArtifacts(directory: folder, signature: signature, engineFiles: engineFiles, labels: labels, manifestService: nil)
    }

    /// The engine for the model in `root` and its files there (see `locateArtifacts`).
    /// `missingSignature` names the signature file when the folder lacks it, for the error of a
    /// folder that holds no model at all.
    private static func recognise(
        root: URL, names: [String], manifest: ModelManifest?, engines: [any InferenceEngine], missingSignature: String?
    ) throws(DMSError) -> (any InferenceEngine, ModelArtifacts.EngineFiles) {
        func manifestNames(_ engine: any InferenceEngine) throws(DMSError) -> [String: String] {
            try manifest?.fileNames(forRoles: engine.format.fileRoles) ?? [:]
        }
        if let declared = manifest?.modelFormat {
            guard let engine = engines.first(where: { $0.format.name == declared }) else {
                throw DMSError(
                    .unsupported,
                    "MANIFEST.json: the model format '\(declared)' is not one this server reads (\(engines.map(\.format.name).joined(separator: ", ")))")
            }
            guard let files = try engine.format.locate(in: root, names: names, manifestNames: try manifestNames(engine)) else {
                throw DMSError(.invalidModel, "MANIFEST.json says \(declared), but the model has no \(engine.format.expectedFiles)")
            }
            return (engine, files)
        }
        var candidates: [(engine: any InferenceEngine, manifestNames: [String: String])] = []
        for engine in engines { candidates.append((engine, try manifestNames(engine))) }
        let ordered = candidates.filter { !$0.manifestNames.isEmpty } + candidates.filter { $0.manifestNames.isEmpty }
        for candidate in ordered {
            if let files = try candidate.engine.format.locate(in: root, names: names, manifestNames: candidate.manifestNames) {
                return (candidate.engine, files)
            }
        }
        let missing = missingSignature.map { "no '\($0)' and " } ?? ""
        throw DMSError(
            .invalidModel,
            "the model has \(missing)no files an engine of this server reads; expected \(engines.map(\.format.expectedFiles).joined(separator: " or "))")
    }

    private static func readSignatureFile(_ url: URL) throws(DMSError) -> ModelSignature {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DMSError(.invalidModel, "\(url.lastPathComponent): cannot read (\(error))", cause: error)
        }
        return try ModelSignature(json: data, fileName: url.lastPathComponent)
    }

    /// The folder holding the model files: the unpacked folder itself, or its only subfolder
    /// when the archive put everything under one top-level folder.
    private static func modelRoot(_ directory: URL) throws(DMSError) -> URL {
        let contents = try fileNames(in: directory).filter { $0 != "__MACOSX" }
        if contents.count == 1 {
            let only = directory.appendingPathComponent(contents[0])
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: only.path, isDirectory: &isDirectory), isDirectory.boolValue {
                return only
            }
        }
        return directory
    }

    private static func fileNames(in directory: URL) throws(DMSError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        } catch {
            throw DMSError(.invalidModel, "cannot list \(directory.path): \(error)", cause: error)
        }
    }

    private static func readLabels(_ url: URL) throws(DMSError) -> [String] {
        do {
            let text = try String(contentsOf: url, encoding: .utf8)
            var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
            while lines.last?.isEmpty == true { lines.removeLast() }
            return lines
        } catch {
            throw DMSError(.invalidModel, "synset.txt: cannot read as UTF-8 text (\(error))", cause: error)
        }
    }
}
