import DMSFuzzTargets
import Foundation
import Testing

/// Replays every committed fuzz input through its target in the ordinary build: the seed
/// corpus (`fuzz/corpus/TARGET`) and the inputs that once crashed or hung a target
/// (`fuzz/regressions/TARGET`), which must now pass.
@Suite struct CorpusReplayTests {
    static let fuzzFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fuzz")

    static func inputs(in folder: String, of target: FuzzTarget) -> [URL] {
        let directory = fuzzFolder.appendingPathComponent(folder).appendingPathComponent(target.name)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().map { directory.appendingPathComponent($0) }
    }

    @Test(arguments: FuzzTarget.all.map(\.name))
    func seedCorpusAndRegressionsRun(_ name: String) throws {
        let target = try #require(FuzzTarget.named(name))
        let seeds = Self.inputs(in: "corpus", of: target)
        #expect(seeds.count >= 3, "fuzz/corpus/\(name) holds \(seeds.count) seed inputs")
        for file in seeds + Self.inputs(in: "regressions", of: target) {
            let bytes = try Data(contentsOf: file)
            bytes.withUnsafeBytes { target.run($0) }
        }
    }

    @Test func targetNamesAreUnique() {
        #expect(Set(FuzzTarget.all.map(\.name)).count == FuzzTarget.all.count)
    }
}
