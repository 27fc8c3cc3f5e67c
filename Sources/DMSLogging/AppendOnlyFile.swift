#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor that only appends, written with unbuffered `write(2)` calls.
///
/// Bypassing any user-space buffer means every line is in the kernel as soon as it is
/// written, so a crash of the server cannot lose lines already logged; `O_APPEND` keeps
/// lines whole even if another process appends to the same file.
struct AppendOnlyFile: Sendable {
    /// The path the file was opened at.
    let path: String
    private let descriptor: Int32

    /// Opens (creating it with mode 0644 if needed) the file at `path` for appending.
    init(path: String) throws(RotatingLogFileError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .cannotOpen(path: path, reason: Self.lastErrorReason())
        }
        self.path = path
        self.descriptor = descriptor
    }

    /// Writes all of `bytes`, retrying short and interrupted writes.
    func append(_ bytes: [UInt8]) throws(RotatingLogFileError) {
        let failure: String? = bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return Self.lastErrorReason()
                }
                offset += written
            }
            return nil
        }
        if let failure {
            throw .cannotWrite(path: path, reason: failure)
        }
    }

    /// Closes the descriptor; the value must not be used afterwards.
    func closeFile() {
        _ = close(descriptor)
    }

    /// The operating system's description of the last failed call's `errno`.
    static func lastErrorReason() -> String {
        String(cString: strerror(errno))
    }
}
