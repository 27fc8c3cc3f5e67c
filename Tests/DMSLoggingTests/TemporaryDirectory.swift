import Foundation

/// A fresh, uniquely named folder under the system's temporary folder, deleted when the
/// value is released, so tests that touch files never see each other's files.
final class TemporaryDirectory {
    /// The folder's absolute path.
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("DMSLoggingTests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The absolute path of `name` inside the folder.
    func file(_ name: String) -> String {
        path + "/" + name
    }

    /// The names of the entries in the folder, sorted.
    func names() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    /// The UTF-8 text of `name` inside the folder.
    func contents(_ name: String) throws -> String {
        try String(contentsOfFile: file(name), encoding: .utf8)
    }
}
