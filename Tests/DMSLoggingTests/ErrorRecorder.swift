import DMSLogging
import Synchronization

/// Collects the errors a ``RotatingLogFile`` reports, so tests can assert there were none
/// (or the expected ones) instead of having them printed.
final class ErrorRecorder: Sendable {
    private let recorded = Mutex<[RotatingLogFileError]>([])

    /// The errors reported so far.
    var errors: [RotatingLogFileError] {
        recorded.withLock { $0 }
    }

    /// A callback to pass as `onError`.
    var closure: @Sendable (RotatingLogFileError) -> Void {
        { error in self.recorded.withLock { $0.append(error) } }
    }
}
