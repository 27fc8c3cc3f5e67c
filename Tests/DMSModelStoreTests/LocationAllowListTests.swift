import DMSCore
import Foundation
import Testing

@testable import DMSModelStore

@Suite("location allow-list")
struct LocationAllowListTests {
    private func location(_ text: String) throws -> ModelLocation { try ModelLocation(parsing: text) }

    @Test func allowsLocalFilesOnlyByDefault() throws {
        let list = LocationAllowList.localFilesOnly
        #expect(list.allows(try location("/srv/models/a.model")))
        #expect(!list.allows(try location("https://models.example.com/a.model")))
        #expect(!list.allows(try location("s3://bucket/a.model")))
    }

    @Test func matchesPrefixesAtABoundary() throws {
        let list = try LocationAllowList(parsing: ["https://models.example.com", "s3://bucket/models/"])
        #expect(list.allows(try location("https://models.example.com/a.model")))
        #expect(list.allows(try location("HTTPS://Models.Example.com/a.model")))
        #expect(!list.allows(try location("https://models.example.com.elsewhere.example/a.model")))
        #expect(!list.allows(try location("https://models.example.com@elsewhere.example/a.model")))
        #expect(!list.allows(try location("https://models.example.com:8443/a.model")))
        #expect(!list.allows(try location("http://models.example.com/a.model")))
        #expect(list.allows(try location("s3://bucket/models/a.model")))
        #expect(!list.allows(try location("s3://bucket/other/a.model")))
        #expect(!list.allows(try location("/srv/models/a.model")))
    }

    @Test func resolvesDotSegmentsAndSymbolicLinks() throws {
        let list = try LocationAllowList(parsing: ["https://host/allowed/"])
        #expect(!list.allows(try location("https://host/allowed/../secret.model")))

        let root = FileManager.default.temporaryDirectory.appendingPathComponent("dms-allow-\(UUID().uuidString)")
        let allowed = root.appendingPathComponent("allowed")
        let outside = root.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: allowed, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createSymbolicLink(at: allowed.appendingPathComponent("link"), withDestinationURL: outside)
        let folder = try LocationAllowList(parsing: [allowed.path])
        #expect(folder.allows(try location(allowed.appendingPathComponent("a.model").path)))
        #expect(!folder.allows(try location(allowed.path + "/../outside/a.model")))
        #expect(!folder.allows(try location(allowed.appendingPathComponent("link/a.model").path)))
        #expect(!folder.allows(try location(root.path + "/allowed-not/a.model")))
    }

    @Test func refusesWhatIsNoLocation() {
        #expect { try LocationAllowList(parsing: ["ftp://host/"]) } throws: { ($0 as? DMSError)?.code == .invalidInput }
        #expect { try LocationAllowList(parsing: [""]) } throws: { ($0 as? DMSError)?.code == .invalidInput }
    }
}
