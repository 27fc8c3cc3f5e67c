import Foundation
import ZIPFoundation

/// Builds zip files entry by entry for archive tests, including entries no honest tool writes.
struct ArchiveFixture {
    enum Content {
        case file(Data)
        case symlink(target: String)
        case directory
    }

    var entries: [(path: String, content: Content)] = []

    // Computed, not stored: LeakSanitizer reported the storage of these as stored globals as
    // leaked (the pointer sits inside Data's enum representation, where its scan did not find it).
    static var signature: Data { Data(#"{"inputs": [{"data_name": "data", "data_shape": [0, 1, 8, 8]}], "input_type": "image/jpeg", "outputs": [{"data_name": "softmax", "data_shape": [0, 10]}], "output_type": "application/json"}"#.utf8) }
    static var parameters: Data { Data([0x12, 0x01, 0, 0, 0, 0, 0, 0] + Array(repeating: 0, count: 16)) }

    /// A minimal well-formed model archive's entries, optionally under a folder.
    static func model(prefix: String = "") -> ArchiveFixture {
        ArchiveFixture(entries: [
            ("\(prefix)signature.json", .file(signature)),
            ("\(prefix)digits-symbol.json", .file(Data(#"{"nodes": [{"op": "null", "name": "data", "inputs": []}], "arg_nodes": [0], "heads": [[0, 0, 0]]}"#.utf8))),
            ("\(prefix)digits-0000.params", .file(parameters)),
            ("\(prefix)synset.txt", .file(Data("zero\none\r\ntwo\n\n".utf8))),
        ])
    }

    /// The zip file's bytes.
    func bytes() throws -> Data {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let url = folder.url.appendingPathComponent("a.zip")
        try write(to: url)
        return try Data(contentsOf: url)
    }

    func write(to url: URL) throws {
        try? FileManager.default.removeItem(at: url)
        let archive = try Archive(url: url, accessMode: .create)
        for (path, content) in entries {
            switch content {
            case .file(let data):
                try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            case .symlink(let target):
                let data = Data(target.utf8)
                try archive.addEntry(with: path, type: .symlink, uncompressedSize: Int64(data.count)) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            case .directory:
                try archive.addEntry(with: path, type: .directory, uncompressedSize: Int64(0)) { _, _ in Data() }
            }
        }
    }
}

/// A fresh folder under the system's temporary folder, removed by `remove()`.
struct TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("dms-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}
