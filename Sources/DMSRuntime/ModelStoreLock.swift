import DMSCore
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
    /// there first when no other server holds it.
    public static func acquire(_ store: ModelStore, logger: Logger) throws(DMSError) -> ModelStoreLock {
        let path = store.root.appendingPathComponent(".lock").path
        do {
            try FileManager.default.createDirectory(at: store.root, withIntermediateDirectories: true)
        } catch {
            throw DMSError(.internalError, "cannot create the model store folder \(store.root.path): \(error)", cause: error)
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw DMSError(.internalError, "cannot open the model store's lock file \(path): \(String(cString: strerror(errno)))")
        }
        let lock = ModelStoreLock(descriptor: descriptor)
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 {
            let removed = store.removeLeftovers(logger: logger)
            if !removed.isEmpty {
                logger.info("removed temporary files that interrupted runs left in the model store", metadata: ["files": "\(removed)"])
            }
        } else {
            logger.info("another server uses the model store; its temporary files are left alone", metadata: ["store": "\(store.root.path)"])
        }
        // Converting the lock is not atomic: another server starting now may take it
        // exclusively for a moment, and finds no temporary file of ours, since this one has
        // not started writing any yet.
        guard flock(descriptor, LOCK_SH) == 0 else {
            throw DMSError(.internalError, "cannot lock the model store \(path): \(String(cString: strerror(errno)))")
        }
        return lock
    }
}
