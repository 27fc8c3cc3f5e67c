import DMSCore
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// One Python worker process (`python -m dms.worker`) and the socket to it.
///
/// The process gets its end of a socket pair as file descriptor 3; its standard output and
/// error are the server's, so a service's prints and tracebacks appear in the server's output.
/// Used by one caller at a time (its pool hands it out exclusively), hence `@unchecked Sendable`.
final class PythonWorkerProcess: @unchecked Sendable {
    let processID: pid_t
    private let socket: Int32

    /// Starts `python -m dms.worker` with `pythonPath` on its `PYTHONPATH`.
    init(python: String, pythonPath: String) throws(DMSError) {
        var sockets: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &sockets) == 0 else {
            throw DMSError(.internalError, "cannot create a socket for a Python worker: \(String(cString: strerror(errno)))")
        }
        let (parent, child) = (sockets[0], sockets[1])
        _ = fcntl(parent, F_SETFD, FD_CLOEXEC)
        // Socket buffers of 4 MiB (the kernel caps them at net.core.wmem_max / rmem_max) let a
        // ResNet-sized tensor cross in one go instead of in turns of the default ~200 KiB:
        // 1.34 ms -> 0.88 ms for 602 KB each way between two Python processes on this machine.
        var bufferBytes: Int32 = 4 << 20
        for descriptor in [parent, child] {
            _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &bufferBytes, socklen_t(MemoryLayout<Int32>.size))
            _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &bufferBytes, socklen_t(MemoryLayout<Int32>.size))
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, child, 3)
        var environment = ProcessInfo.processInfo.environment
        environment["DMS_CHANNEL_FD"] = "3"
        environment["PYTHONUNBUFFERED"] = "1"
        environment["PYTHONPATH"] = ([pythonPath] + (environment["PYTHONPATH"].map { [$0] } ?? [])).joined(separator: ":")
        let arguments = [python, "-m", "dms.worker"]
        var pid: pid_t = 0
        let status = withCStrings(arguments) { argv in
            withCStrings(environment.map { "\($0.key)=\($0.value)" }) { envp in
                posix_spawn(&pid, python, &actions, nil, argv, envp)
            }
        }
        close(child)
        guard status == 0 else {
            close(parent)
            throw DMSError(.internalError, "cannot start the Python worker \(python): \(String(cString: strerror(status)))")
        }
        processID = pid
        socket = parent
    }

    deinit {
        terminate()
        close(socket)
    }

    /// Kills the process (if it still runs) and reaps it.
    func terminate() {
        kill(processID, SIGKILL)
        var status: Int32 = 0
        while waitpid(processID, &status, 0) < 0, errno == EINTR {}
    }

    /// Sends one frame and waits up to `timeout` for the answer.
    func exchange(_ frame: [UInt8], timeout: Duration) throws(PythonChannelError) -> PythonFrame {
        let deadline = ContinuousClock.now + timeout
        try write(frame)
        var prefix = [UInt8](repeating: 0, count: PythonFrame.prefixBytes)
        try read(into: &prefix, until: deadline, limit: timeout)
        let lengths = try PythonFrame.lengths(ofPrefix: prefix)
        var headerBytes = [UInt8](repeating: 0, count: lengths.header)
        try read(into: &headerBytes, until: deadline, limit: timeout)
        var payload = [UInt8](repeating: 0, count: lengths.payload)
        try read(into: &payload, until: deadline, limit: timeout)
        return try PythonFrame(headerBytes: headerBytes, payload: payload)
    }

    private func write(_ bytes: [UInt8]) throws(PythonChannelError) {
        var sent = 0
        while sent < bytes.count {
            let result = bytes.withUnsafeBytes { send(socket, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if result < 0 {
                if errno == EINTR { continue }
                throw errno == EPIPE || errno == ECONNRESET ? .closed : .io(String(cString: strerror(errno)))
            }
            sent += result
        }
    }

    private func read(into buffer: inout [UInt8], until deadline: ContinuousClock.Instant, limit: Duration) throws(PythonChannelError) {
        var received = 0
        while received < buffer.count {
            let remaining = deadline - ContinuousClock.now
            let milliseconds = max(0, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000)
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(clamping: milliseconds))
            if ready < 0 {
                if errno == EINTR { continue }
                throw .io(String(cString: strerror(errno)))
            }
            if ready == 0 { throw .timedOut(limit) }
            let count = buffer.count
            let result = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress! + received, count - received, 0) }
            if result == 0 { throw .closed }
            if result < 0 {
                if errno == EINTR { continue }
                throw errno == ECONNRESET ? .closed : .io(String(cString: strerror(errno)))
            }
            received += result
        }
    }
}

/// Calls `body` with a NULL-terminated C array of the strings.
private func withCStrings<Result>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> Result) -> Result {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return body(pointers)
}
