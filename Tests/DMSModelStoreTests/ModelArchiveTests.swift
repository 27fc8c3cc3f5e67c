import DMSCore
import DMSMXNet
import DMSONNX
import Foundation
import Testing

@testable import DMSModelStore

@Suite("model archives")
struct ModelArchiveTests {
    private func unpack(_ fixture: ArchiveFixture, limits: ArchiveLimits = ArchiveLimits()) throws -> (TemporaryFolder, URL) {
        let folder = try TemporaryFolder()
        let archive = folder.url.appendingPathComponent("m.model")
        try fixture.write(to: archive)
        let target = folder.url.appendingPathComponent("out/unpacked")
        try ModelArchive.unpack(archive, to: target, limits: limits)
        return (folder, target)
    }

    private func expectRefusal(_ fixture: ArchiveFixture, mentioning fragment: String, limits: ArchiveLimits = ArchiveLimits()) throws {
        try expectUnpackRefused(try fixture.bytes(), mentioning: fragment, limits: limits)
    }

    @Test func unpacksAndLocatesAWellFormedArchive() throws {
        let (folder, target) = try unpack(.model())
        defer { folder.remove() }
        let artifacts = try ModelArchive.locateArtifacts(in: target, engines: FormatOnlyEngine.serverFormats())
        #expect(artifacts.signature.inputs[0].shape == [0, 1, 8, 8])
        #expect(artifacts.labels == ["zero", "one", "two"])
        #expect(artifacts.engineFiles == MXNetFormat.files(symbol: target.appendingPathComponent("digits-symbol.json"), parameters: target.appendingPathComponent("digits-0000.params")))
        #expect(artifacts.manifestService == nil)
    }

    @Test func acceptsEntriesUnderOneTopLevelFolderAndIgnoresMacOSMetadata() throws {
        var fixture = ArchiveFixture.model(prefix: "resnet-18/")
        fixture.entries.append(("__MACOSX/resnet-18/._signature.json", .file(Data([0, 1, 2]))))
        let (folder, target) = try unpack(fixture)
        defer { folder.remove() }
        let artifacts = try ModelArchive.locateArtifacts(in: target, engines: FormatOnlyEngine.serverFormats())
        #expect(artifacts.directory.lastPathComponent == "resnet-18")
        #expect(!FileManager.default.fileExists(atPath: target.appendingPathComponent("__MACOSX").path))
    }

    @Test(arguments: ["../evil.txt", "a/../../evil.txt", "/tmp/evil.txt", "..\\evil.txt"])
    func refusesEntriesThatEscape(path: String) throws {
        var fixture = ArchiveFixture.model()
        fixture.entries.append((path, .file(Data("x".utf8))))
        try expectRefusal(fixture, mentioning: "outside the model folder")
    }

    @Test func refusesLinks() throws {
        var fixture = ArchiveFixture.model()
        fixture.entries.append(("link", .symlink(target: "/etc/passwd")))
        try expectRefusal(fixture, mentioning: "is a link")
    }

    @Test func refusesDuplicateEntries() throws {
        var fixture = ArchiveFixture.model()
        fixture.entries.append(("./signature.json", .file(Data("{}".utf8))))
        try expectRefusal(fixture, mentioning: "more than once")
    }

    @Test func refusesTooManyEntriesOrBytes() throws {
        try expectRefusal(.model(), mentioning: "more than 3 entries", limits: ArchiveLimits(maxEntryCount: 3))
        var big = ArchiveFixture.model()
        big.entries.append(("zeros.bin", .file(Data(count: 1 << 20))))
        try expectRefusal(big, mentioning: "more than", limits: ArchiveLimits(maxUnpackedBytes: 1 << 19))
    }

    @Test func refusesFilesThatAreNotZips() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let archive = folder.url.appendingPathComponent("m.model")
        try Data("not a zip at all".utf8).write(to: archive)
        #expect(throws: DMSError.self) { try ModelArchive.unpack(archive, to: folder.url.appendingPathComponent("out")) }
    }

    @Test func locatingNamesWhatIsMissingOrAmbiguous() throws {
        var noSymbol = ArchiveFixture.model()
        noSymbol.entries.remove(at: 1)
        let (folder1, target1) = try unpack(noSymbol)
        defer { folder1.remove() }
        #expect { try ModelArchive.locateArtifacts(in: target1, engines: FormatOnlyEngine.serverFormats()) } throws: { ($0 as? DMSError)?.message.contains("no symbol file") == true }

        var twoParams = ArchiveFixture.model()
        twoParams.entries.append(("other-0001.params", .file(ArchiveFixture.parameters)))
        let (folder2, target2) = try unpack(twoParams)
        defer { folder2.remove() }
        #expect { try ModelArchive.locateArtifacts(in: target2, engines: FormatOnlyEngine.serverFormats()) } throws: { ($0 as? DMSError)?.message.contains("exactly one") == true }
    }

    @Test func followsTheManifestAndKeepsTheServiceItNames() throws {
        var stock = ArchiveFixture.model()
        stock.entries.append(("MANIFEST.json", .file(Data(#"{"Model": {"Service": "mxnet_vision_service.py", "Symbol": "digits-symbol.json", "Parameters": "digits-0000.params", "Signature": "signature.json"}}"#.utf8))))
        let (folder1, target1) = try unpack(stock)
        defer { folder1.remove() }
        #expect(try ModelArchive.locateArtifacts(in: target1, engines: FormatOnlyEngine.serverFormats()).manifestService == "mxnet_vision_service")

        var custom = ArchiveFixture.model()
        custom.entries.append(("MANIFEST.json", .file(Data(#"{"Model": {"Service": "my_service.py"}}"#.utf8))))
        let (folder2, target2) = try unpack(custom)
        defer { folder2.remove() }
        // Whether the server has that service is the service catalog's question.
        #expect(try ModelArchive.locateArtifacts(in: target2, engines: FormatOnlyEngine.serverFormats()).manifestService == "my_service")
    }

    @Test func safeRelativePaths() {
        #expect(ModelArchive.safeRelativePath("a/./b//c") == "a/b/c")
        #expect(ModelArchive.safeRelativePath("C:/evil") == nil)
        #expect(ModelArchive.safeRelativePath("./") == nil)
    }
}

/// Unpacks `bytes` as an archive and expects an `.invalidModel` refusal (mentioning `fragment`,
/// when given) with nothing written beside the target folder.
private func expectUnpackRefused(_ bytes: Data, mentioning fragment: String?, limits: ArchiveLimits) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let archive = folder.url.appendingPathComponent("m.model")
    try bytes.write(to: archive)
    do {
        try ModelArchive.unpack(archive, to: folder.url.appendingPathComponent("out/unpacked"), limits: limits)
        Issue.record("expected the archive to be refused")
    } catch {
        #expect(error.code == .invalidModel)
        if let fragment { #expect(error.message.contains(fragment), "\(error.message)") }
    }
    let outside = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { $0 != "m.model" && $0 != "out" }
    #expect(outside.isEmpty, "files written outside the target: \(outside)")
}

@Suite("hostile archives")
struct HostileArchiveTests {
    private func refuse(_ bytes: Data, mentioning fragment: String? = nil, limits: ArchiveLimits = ArchiveLimits()) throws {
        try expectUnpackRefused(bytes, mentioning: fragment, limits: limits)
    }

    /// Overwrites every uncompressed-size field (local headers and central directory) that
    /// holds `from` with `to`, as a zip bomb that lies about its size would.
    private func patchUncompressedSize(_ data: Data, from: UInt32, to: UInt32) -> Data {
        var bytes = [UInt8](data)
        let signatures: [(signature: [UInt8], offset: Int)] = [([0x50, 0x4B, 0x03, 0x04], 22), ([0x50, 0x4B, 0x01, 0x02], 24)]
        for (signature, offset) in signatures {
            var index = 0
            while index + offset + 4 <= bytes.count {
                if Array(bytes[index..<index + 4]) == signature {
                    let field = bytes[(index + offset)..<(index + offset + 4)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
                    if field == from {
                        withUnsafeBytes(of: to.littleEndian) { bytes.replaceSubrange((index + offset)..<(index + offset + 4), with: $0) }
                    }
                }
                index += 1
            }
        }
        return Data(bytes)
    }

    @Test func truncatedZip() throws {
        let bytes = try ArchiveFixture.model().bytes()
        try refuse(bytes.prefix(bytes.count / 2))
        try refuse(bytes.prefix(bytes.count - 10))
    }

    @Test func notAZip() throws {
        try refuse(Data("{\"inputs\": []}".utf8), mentioning: "not a readable zip archive")
        try refuse(Data(), mentioning: "not a readable zip archive")
    }

    @Test func hugeDeclaredSize() throws {
        var fixture = ArchiveFixture.model()
        fixture.entries.append(("bomb.bin", .file(Data(count: 4096))))
        let bytes = patchUncompressedSize(try fixture.bytes(), from: 4096, to: 0xFFFF_FF00)
        try refuse(bytes, mentioning: "more than", limits: ArchiveLimits(maxUnpackedBytes: 1 << 30))
    }

    @Test func actualSizeLargerThanDeclared() throws {
        var fixture = ArchiveFixture.model()
        fixture.entries.append(("bomb.bin", .file(Data(count: 1 << 20))))
        try refuse(patchUncompressedSize(try fixture.bytes(), from: 1 << 20, to: 1000))
    }

    @Test func tinyArchiveThatInflatesPastTheLimit() throws {
        var fixture = ArchiveFixture.model()
        fixture.entries.append(("zeros.bin", .file(Data(count: 8 << 20))))
        let bytes = try fixture.bytes()
        #expect(bytes.count < 64 << 10)
        try refuse(bytes, mentioning: "more than", limits: ArchiveLimits(maxUnpackedBytes: 1 << 20))
    }

    @Test func hugeEntryCount() throws {
        var fixture = ArchiveFixture.model()
        for index in 0..<50 { fixture.entries.append(("many/\(index)", .file(Data()))) }
        try refuse(try fixture.bytes(), mentioning: "more than 20 entries", limits: ArchiveLimits(maxEntryCount: 20))
    }
}

@Suite("ONNX model files")
struct ONNXArtifactTests {
    private let derived = try! ModelSignature(
        inputs: [.init(name: "from-model", shape: [0, 4])], inputType: .json, outputs: [.init(name: "y", shape: [0, 2])], outputType: .json)

    @Test func archiveWithAnONNXFileAndASignature() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try Data("onnx".utf8).write(to: folder.url.appendingPathComponent("m.onnx"))
        try ArchiveFixture.signature.write(to: folder.url.appendingPathComponent("signature.json"))
        let artifacts = try ModelArchive.locateArtifacts(in: folder.url, engines: FormatOnlyEngine.serverFormats(onnxSignature: derived))
        #expect(artifacts.engineFiles == ONNXFormat.files(model: folder.url.appendingPathComponent("m.onnx")))
        #expect(artifacts.signature.inputs[0].name == "data")
    }

    @Test func archiveWithoutASignatureReadsItFromTheModel() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try Data("onnx".utf8).write(to: folder.url.appendingPathComponent("m.onnx"))
        #expect(try ModelArchive.locateArtifacts(in: folder.url, engines: FormatOnlyEngine.serverFormats(onnxSignature: derived)).signature == derived)
        #expect(throws: DMSError.self) { try ModelArchive.locateArtifacts(in: folder.url, engines: FormatOnlyEngine.serverFormats()) }
    }

    @Test func twoONNXFilesAreAmbiguous() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try Data("onnx".utf8).write(to: folder.url.appendingPathComponent("a.onnx"))
        try Data("onnx".utf8).write(to: folder.url.appendingPathComponent("b.onnx"))
        #expect(throws: DMSError.self) { try ModelArchive.locateArtifacts(in: folder.url, engines: FormatOnlyEngine.serverFormats(onnxSignature: derived)) }
    }

    @Test func bareONNXFileUsesSidecarsWhenPresent() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let model = folder.url.appendingPathComponent("iris.onnx")
        try Data("onnx".utf8).write(to: model)
        #expect(try #require(try ModelArchive.singleFileArtifacts(model, engines: FormatOnlyEngine.serverFormats(onnxSignature: derived))).signature == derived)
        #expect(try #require(try ModelArchive.singleFileArtifacts(model, engines: FormatOnlyEngine.serverFormats(onnxSignature: derived))).labels == nil)

        try ArchiveFixture.signature.write(to: folder.url.appendingPathComponent("iris.signature.json"))
        try Data("setosa\nversicolor\nvirginica\n".utf8).write(to: folder.url.appendingPathComponent("iris.synset.txt"))
        let artifacts = try #require(try ModelArchive.singleFileArtifacts(model, engines: FormatOnlyEngine.serverFormats(onnxSignature: derived)))
        #expect(artifacts.signature.inputType == .jpeg)
        #expect(artifacts.labels == ["setosa", "versicolor", "virginica"])
        #expect(artifacts.engineFiles == ONNXFormat.files(model: model))
    }
}

/// Which engine's files a model folder holds, decided by the engines' formats.
@Suite("engine formats")
struct EngineFormatTests {
    private let derived = try! ModelSignature(
        inputs: [.init(name: "from-model", shape: [0, 4])], inputType: .json, outputs: [.init(name: "y", shape: [0, 2])], outputType: .json)

    private func folder(_ files: [String: Data]) throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        for (name, contents) in files { try contents.write(to: folder.url.appendingPathComponent(name)) }
        return folder
    }

    @Test func theManifestsFormatWinsOverTheFilesPresent() throws {
        let manifest = #"{"Model": {"Model Format": "ONNX", "Model File": "m.onnx"}}"#
        let folder = try folder([
            "m.onnx": Data("onnx".utf8), "m-symbol.json": Data("{}".utf8), "m-0000.params": ArchiveFixture.parameters,
            "signature.json": ArchiveFixture.signature, "MANIFEST.json": Data(manifest.utf8),
        ])
        defer { folder.remove() }
        let artifacts = try ModelArchive.locateArtifacts(in: folder.url, engines: FormatOnlyEngine.serverFormats())
        #expect(artifacts.engineFiles == ONNXFormat.files(model: folder.url.appendingPathComponent("m.onnx")))
    }

    @Test func withoutAManifestTheFirstEngineWhoseFilesArePresentReadsTheModel() throws {
        let folder = try folder([
            "m.onnx": Data("onnx".utf8), "m-symbol.json": Data("{}".utf8), "m-0000.params": ArchiveFixture.parameters,
            "signature.json": ArchiveFixture.signature,
        ])
        defer { folder.remove() }
        let artifacts = try ModelArchive.locateArtifacts(in: folder.url, engines: FormatOnlyEngine.serverFormats())
        #expect(artifacts.engineFiles.format == "MXNet-Symbolic")
    }

    @Test func anUnknownFormatOrNoEnginesFilesAreClearErrors() throws {
        let unknown = try folder(["signature.json": ArchiveFixture.signature, "MANIFEST.json": Data(#"{"Model": {"Model Format": "TensorRT"}}"#.utf8)])
        defer { unknown.remove() }
        #expect { try ModelArchive.locateArtifacts(in: unknown.url, engines: FormatOnlyEngine.serverFormats()) } throws: {
            ($0 as? DMSError)?.code == .unsupported
                && ($0 as? DMSError)?.message == "MANIFEST.json: the model format 'TensorRT' is not one this server reads (MXNet-Symbolic, ONNX)"
        }
        let labelsOnly = try folder(["signature.json": ArchiveFixture.signature, "synset.txt": Data("a\n".utf8)])
        defer { labelsOnly.remove() }
        #expect { try ModelArchive.locateArtifacts(in: labelsOnly.url, engines: FormatOnlyEngine.serverFormats()) } throws: {
            ($0 as? DMSError)?.message
                == "the model has no files an engine of this server reads; expected NAME-symbol.json and NAME-EPOCH.params (MXNet) or one NAME.onnx (ONNX Runtime)"
        }
        let empty = try folder([:])
        defer { empty.remove() }
        #expect { try ModelArchive.locateArtifacts(in: empty.url, engines: FormatOnlyEngine.serverFormats()) } throws: {
            ($0 as? DMSError)?.message.hasPrefix("the model has no 'signature.json' and no files an engine of this server reads") == true
        }
    }

    @Test func onlyFormatsWithASingleFileFormServeABareFile() throws {
        let folder = try folder(["m.model": Data("zip".utf8), "m.onnx": Data("onnx".utf8)])
        defer { folder.remove() }
        let engines = FormatOnlyEngine.serverFormats(onnxSignature: derived)
        #expect(try ModelArchive.singleFileArtifacts(folder.url.appendingPathComponent("m.model"), engines: engines) == nil)
        #expect(try ModelArchive.singleFileArtifacts(folder.url.appendingPathComponent("m.onnx"), engines: engines)?.signature == derived)
    }
}
