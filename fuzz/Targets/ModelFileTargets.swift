import DMSCore
import DMSModelStore
import DMSMXNet
import DMSONNX
import Foundation
import Logging

// Targets for the files a model arrives as: `.model` archives and the JSON documents inside.

extension FuzzTarget {
    static let signature = FuzzTarget(
        "signature",
        "signature.json documents: inputs, outputs, data types, image preprocessing and output postprocessing blocks"
    ) { input in
        guard let signature = try? ModelSignature(json: Data(input.rest())) else { return }
        for spec in signature.inputs {
            _ = spec.shape(batchSize: 2)
            if let preprocess = spec.preprocess {
                _ = preprocess.tensorShape(preprocess.imageSize(of: spec.shape))
            }
        }
    }

    static let manifest = FuzzTarget("manifest", "MANIFEST.json documents of seed-era and exported archives") { input in
        guard let manifest = try? ModelManifest(data: Data(input.rest())) else { return }
        for format in FuzzEngines.formats {
            _ = try? manifest.fileNames(forRoles: format.fileRoles)
        }
    }

    static let archive = FuzzTarget(
        "archive",
        ".model archives (zip): unpacked under limits of entries and bytes, then the model's files found (formats, manifest, signature, labels)"
    ) { input in
        let limits = ArchiveLimits(maxEntryCount: 64, maxUnpackedBytes: 1 << 20)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("dms-fuzz-archive-\(getpid())")
        do {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        } catch {
            fatalError("cannot create \(scratch.path): \(error)")
        }
        defer { try? FileManager.default.removeItem(at: scratch) }
        let archive = scratch.appendingPathComponent("input.model")
        let unpacked = scratch.appendingPathComponent("unpacked")
        guard FileManager.default.createFile(atPath: archive.path, contents: Data(input.rest())) else {
            fatalError("cannot write \(archive.path)")
        }
        guard (try? ModelArchive.unpack(archive, to: unpacked, limits: limits)) != nil else { return }
        precondition(unpackedBytes(in: unpacked) <= limits.maxUnpackedBytes, "the archive unpacked more bytes than its limit")
        _ = try? ModelArchive.locateArtifacts(in: unpacked, engines: FuzzEngines.engines)
    }
}

/// The bytes of the regular files under `folder`.
private func unpackedBytes(in folder: URL) -> UInt64 {
    let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey])
    var total: UInt64 = 0
    while let file = files?.nextObject() as? URL {
        guard let values = try? file.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey]), values.isRegularFile == true else { continue }
        total += UInt64(values.fileSize ?? 0)
    }
    return total
}

/// The engines as the server registers them, without their libraries: finding a model's files
/// needs only their formats (an ONNX model without a signature asks its engine, which then
/// fails to load its library, an error like any other).
enum FuzzEngines {
    static let engines: [any InferenceEngine] = [
        MXNetEngine(libraryCandidates: [], logger: Logger(label: "fuzz")),
        ONNXEngine(libraryCandidates: [], logger: Logger(label: "fuzz")),
    ]
    static let formats: [any ModelFormat] = engines.map(\.format)
}
