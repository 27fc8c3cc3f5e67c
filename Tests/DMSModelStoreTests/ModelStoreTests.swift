import DMSCore
import Foundation
import Logging
import Testing

@testable import DMSModelStore

@Suite("model store and locations")
struct ModelStoreTests {
    @Test func downloadNamesDependOnTheWholeURL() {
        let store = ModelStore(root: URL(fileURLWithPath: "/store"))
        let a = store.downloadPath(for: URL(string: "http://one.example/models/resnet-18.model")!)
        let b = store.downloadPath(for: URL(string: "http://two.example/models/resnet-18.model")!)
        #expect(a != b)
        #expect(a.lastPathComponent.hasSuffix("-resnet-18.model"))
        #expect(a.deletingLastPathComponent().path == "/store/downloads")
    }

    @Test func unpackedFoldersAreKeyedByContent() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = ModelStore(root: folder.url.appendingPathComponent("store"))
        let archive = folder.url.appendingPathComponent("m.model")
        try ArchiveFixture.model().write(to: archive)
        let first = try store.unpackedFolder(for: archive, logger: Logger(label: "test"))
        #expect(try store.unpackedFolder(for: archive, logger: Logger(label: "test")).path == first.path)

        var changed = ArchiveFixture.model()
        changed.entries.append(("extra.txt", .file(Data("changed".utf8))))
        try changed.write(to: archive)
        let second = try store.unpackedFolder(for: archive, logger: Logger(label: "test"))
        #expect(second.path != first.path)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.root.appendingPathComponent("unpacked").path).filter { $0.hasPrefix(".partial") }
        #expect(leftovers.isEmpty)
    }

    @Test func parsesLocations() throws {
        let base = URL(fileURLWithPath: "/work")
        #expect(try ModelLocation(parsing: "http://h:8/m.model", relativeTo: base) == .http(URL(string: "http://h:8/m.model")!))
        #expect(try ModelLocation(parsing: "file:///abs/m.model", relativeTo: base) == .file(URL(fileURLWithPath: "/abs/m.model")))
        #expect(try ModelLocation(parsing: "file://models/resnet-18", relativeTo: base) == .file(URL(fileURLWithPath: "/work/models/resnet-18")))
        #expect(try ModelLocation(parsing: "models/m.model", relativeTo: base) == .file(URL(fileURLWithPath: "/work/models/m.model")))
        #expect(throws: DMSError.self) { try ModelLocation(parsing: "ftp://h/m.model", relativeTo: base) }
        #expect(try ModelLocation(parsing: "s3://bucket/dir/m.model", relativeTo: base) == .s3(S3ObjectLocation(bucket: "bucket", key: "dir/m.model")))
        #expect(throws: DMSError.self) { try ModelLocation(parsing: "s3://bucket", relativeTo: base) }
    }

    @Test func seedStyleLocationsFindTheModelExtension() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("models"), withIntermediateDirectories: true)
        try Data().write(to: folder.url.appendingPathComponent("models/resnet-18.model"))
        #expect(try ModelLocation(parsing: "file://models/resnet-18", relativeTo: folder.url) == .file(folder.url.appendingPathComponent("models/resnet-18.model")))
    }

    @Test func leftoversAreRemovedOnlyByAServerAloneOnTheStore() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = ModelStore(root: folder.url.appendingPathComponent("store"))
        let fileManager = FileManager.default
        func makeLeftovers() throws -> [String] {
            let download = store.root.appendingPathComponent("downloads/.partial-1")
            let unpacked = store.root.appendingPathComponent("unpacked/.partial-2/nested")
            try fileManager.createDirectory(at: download.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fileManager.createDirectory(at: unpacked, withIntermediateDirectories: true)
            try Data("half".utf8).write(to: download)
            try Data("half".utf8).write(to: unpacked.appendingPathComponent("file"))
            return [download.path, unpacked.deletingLastPathComponent().path]
        }
        func exists(_ paths: [String]) -> [Bool] { paths.map { fileManager.fileExists(atPath: $0) } }
        let kept = store.root.appendingPathComponent("downloads/0123456789abcdef-m.model")

        let leftovers = try makeLeftovers()
        try fileManager.createDirectory(at: kept.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("whole".utf8).write(to: kept)
        var holds = [try #require(ModelStoreLock.acquire(store, logger: Logger(label: "test")))]
        #expect(exists(leftovers) == [false, false])
        #expect(fileManager.fileExists(atPath: kept.path))

        // While the first holds the store, a second server's start leaves temporary files alone
        // (flock locks belong to open files, so two holds in one process conflict as two
        // processes' would).
        let inProgress = try makeLeftovers()
        holds.append(try #require(ModelStoreLock.acquire(store, logger: Logger(label: "test"))))
        #expect(exists(inProgress) == [true, true])

        // Once both are gone, the next start cleans up.
        holds.removeAll()
        holds.append(try #require(ModelStoreLock.acquire(store, logger: Logger(label: "test"))))
        #expect(exists(inProgress) == [false, false])
    }

    @Test func aStoreThatCannotBeLockedIsNoReasonNotToStart() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = folder.url.appendingPathComponent("a-file")
        try Data("not a folder".utf8).write(to: file)
        // The store's folder cannot be made inside a file (and root may write anywhere else).
        #expect(ModelStoreLock.acquire(ModelStore(root: file.appendingPathComponent("store")), logger: Logger(label: "test")) == nil)
    }
}
