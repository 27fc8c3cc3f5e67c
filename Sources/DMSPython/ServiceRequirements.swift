import Crypto
import DMSCore
import Foundation
import Logging

/// The Python packages a service declares in a `requirements.txt` beside its file, as
/// TorchServe archives do, installed with pip into a folder of the model store that the
/// service's workers get on their `PYTHONPATH`, layered over the project's environment.
///
/// Installing runs code from PyPI, so it happens only when the operator allows it
/// (`--install-service-requirements`); the folder is named by the hash of the file's content
/// and written under a temporary name, so each set of requirements is installed once and a
/// half-finished install is never used.
struct ServiceRequirements {
    /// `requirements.txt` beside the service file.
    let file: URL

    /// The requirements beside `serviceFile`, if it has any.
    init?(besides serviceFile: URL) {
        let file = serviceFile.deletingLastPathComponent().appendingPathComponent("requirements.txt")
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        self.file = file
    }

    /// The folder holding the installed packages, installing them first when this content was
    /// never installed under `cache`.
    func installed(into cache: URL, python: String, logger: Logger) async throws(DMSError) -> URL {
        let contents: Data
        do {
            contents = try Data(contentsOf: file)
        } catch {
            throw DMSError(.invalidModel, "\(file.path): cannot read (\(error))", cause: error)
        }
        let digest = SHA256.hash(data: contents).map { String(format: "%02x", $0) }.joined().prefix(16)
        let target = cache.appendingPathComponent(String(digest))
        if FileManager.default.fileExists(atPath: target.path) {
            logger.info("using the installed service requirements", metadata: ["requirements": "\(file.path)", "path": "\(target.path)"])
            return target
        }
        let temporary = cache.appendingPathComponent(".partial-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: temporary) }
        do {
            try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        } catch {
            throw DMSError(.internalError, "cannot create \(temporary.path): \(error)", cause: error)
        }
        logger.info("installing service requirements with pip", metadata: ["requirements": "\(file.path)", "path": "\(target.path)"])
        let status: Int32
        let output: String
        do throws(DMSError) {
            (status, output) = try await ChildProcess.run(
                python, ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--target", temporary.path, "-r", file.path])
        } catch {
            (status, output) = (-1, error.message)
        }
        guard status == 0 else {
            let tail = output.split(separator: "\n").suffix(5).joined(separator: "\n")
            throw DMSError(.invalidModel, "\(file.lastPathComponent): pip could not install the service's requirements (exit status \(status)):\n\(tail)")
        }
        if rename(temporary.path, target.path) != 0, !FileManager.default.fileExists(atPath: target.path) {
            throw DMSError(.internalError, "cannot move \(temporary.path) to \(target.path): \(String(cString: strerror(errno)))")
        }
        return target
    }
}
