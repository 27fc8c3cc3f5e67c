import Foundation
import Logging

/// A server's hold on a model store, kept while it runs, so that a server starting on the same
/// store knows whether it is alone there.
///
/// Downloads and unpacking write under `.partial-*` names and rename when complete; a server
/// killed in the middle leaves those files behind. Only a server that is alone on the store may
/// remove them: another server's are still being written. So every server holds a shared
/// `flock` on the store's `.lock` file while it runs, and one that starts takes it exclusively
/// first, without waiting: when that succeeds no other server is there, and it removes the
/// leftovers before turning its hold into a shared one. When another server holds the store,
/// the leftovers stay for a later start. (`flock` locks are released by the kernel when a
/// process dies, so a crashed server never keeps the store locked; they are not reliable on
/// network file systems, where a store should not be shared by servers on several machines.)
public final class ModelStoreLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// Takes a shared hold on `store`, removing the temporary files that interrupted runs left
    /// there first when no other server holds it. Nil, with a warning, when the store cannot be
    /// locked (a read-only store, or a read-only home for the default one): a server whose
    /// models are local folders or `.onnx` files never writes to the store, so it still starts;
    /// one that must download fails later, with the store's own error.
    public static func acquire(_ store: ModelStore, logger: Logger) -> ModelStoreLock? {
        let path = store.root.appendingPathComponent(".lock").path
        func unlocked(_ reason: String) -> ModelStoreLock? {
            logger.warning(
                "cannot lock the model store; temporary files of interrupted runs are not cleaned up",
                metadata: ["store": "\(store.root.path)", "reason": "\(reason)"])
            return nil
        }
        do {
            try FileManager.default.createDirectory(at: store.root, withIntermediateDirectories: true)
        } catch {
            return unlocked("\(error)")
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return unlocked("cannot open \(path): \(String(cString: strerror(errno)))") }
        let lock = ModelStoreLock(descriptor: descriptor)
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 {
            let removed = store.removeLeftovers(logger: logger)
            if !removed.isEmpty {
                logger.info("removed temporary files that interrupted runs left in the model store", metadata: ["files": "\(removed)"])
            }
        } else if errno == EWOULDBLOCK {
            logger.info("another server uses the model store; its temporary files are left alone", metadata: ["store": "\(store.root.path)"])
        } else {
            return unlocked("flock: \(String(cString: strerror(errno)))")
        }
        // Converting the lock is not atomic: another server starting now may take it
        // exclusively for a moment, and finds no temporary file of ours, since this one has
        // not started writing any yet.
        guard flock(descriptor, LOCK_SH) == 0 else { return unlocked("flock: \(String(cString: strerror(errno)))") }
        return lock
    }
}
