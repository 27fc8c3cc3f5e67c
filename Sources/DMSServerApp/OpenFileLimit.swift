import Foundation

/// The process's limit of open files (`RLIMIT_NOFILE`).
enum OpenFileLimit {
    /// Raises the soft limit to the hard one and returns the limit now in force. Every client
    /// connection holds a file descriptor, and the usual soft limit of 1,024 would make the
    /// server refuse connections (accept fails with EMFILE) long before memory or the hard limit
    /// run out; Go's runtime and nginx raise it the same way.
    @discardableResult
    static func raiseToHardLimit() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return UInt64(raised.rlim_cur) }
        }
        return UInt64(limit.rlim_cur)
    }
}
