import DMSCore
import Foundation
import Testing

@testable import DMSMXNet

@Suite("MXNet file checks (no engine needed)")
struct MXNetFileChecksTests {
    private let signature = try! ModelSignature(
        inputs: [.init(name: "data", shape: [0, 1, 8, 8])], inputType: .jpeg,
        outputs: [.init(name: "softmax_output", shape: [0, 10])], outputType: .json)
    private let symbol = #"{"nodes": [{"op": "null", "name": "data", "inputs": []}, {"op": "null", "name": "w", "inputs": []}, {"op": "FullyConnected", "name": "fc", "inputs": [[0, 0, 0], [1, 0, 0]]}, {"op": "softmax", "name": "softmax", "inputs": [[2, 0, 0]]}], "arg_nodes": [0, 1], "heads": [[3, 0, 0]]}"#
    private let parameters = Data([0x12, 0x01, 0, 0, 0, 0, 0, 0] + Array(repeating: 0, count: 16))

    private func check(symbol: String, parameters: Data, signature: ModelSignature? = nil) throws(DMSError) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mxnet-checks-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let symbolURL = folder.appendingPathComponent("m-symbol.json")
        let parametersURL = folder.appendingPathComponent("m-0000.params")
        try? Data(symbol.utf8).write(to: symbolURL)
        try? parameters.write(to: parametersURL)
        try MXNetEngine.checkFiles(
            ModelArtifacts(
                directory: folder, signature: signature ?? self.signature,
                engineFiles: MXNetFormat.files(symbol: symbolURL, parameters: parametersURL), labels: nil, manifestService: nil))
    }

    private func expectRefusal(_ fragment: String, symbol: String? = nil, parameters: Data? = nil, signature: ModelSignature? = nil) {
        do {
            try check(symbol: symbol ?? self.symbol, parameters: parameters ?? self.parameters, signature: signature)
            Issue.record("expected a refusal mentioning \(fragment)")
        } catch {
            #expect(error.code == .invalidModel)
            #expect(error.message.contains(fragment), "\(error.message)")
        }
    }

    @Test func acceptsAWellFormedModel() throws {
        try check(symbol: symbol, parameters: parameters)
    }

    @Test func refusesParametersThatAreNotMXNets() {
        expectRefusal("m-0000.params", parameters: Data("PK\u{3}\u{4} a zip, not params".utf8))
        expectRefusal("magic", parameters: Data([0x12, 0x01]))
    }

    @Test func refusesParametersOfTwoGiBOrMoreBeforeReadingThem() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mxnet-large-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let symbolURL = folder.appendingPathComponent("m-symbol.json")
        let parametersURL = folder.appendingPathComponent("m-0000.params")
        try Data(symbol.utf8).write(to: symbolURL)
        try parameters.write(to: parametersURL)
        // A sparse file: 2 GiB long, nothing written, so the test costs no disk.
        let handle = try FileHandle(forWritingTo: parametersURL)
        try handle.truncate(atOffset: 1 << 31)
        try handle.close()
        let artifacts = ModelArtifacts(
            directory: folder, signature: signature, engineFiles: MXNetFormat.files(symbol: symbolURL, parameters: parametersURL), labels: nil,
            manifestService: nil)
        let error = #expect(throws: DMSError.self) { try MXNetEngine.checkFiles(artifacts) }
        #expect(error?.code == .invalidModel)
        #expect(error?.message.contains("2147483648 bytes") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("C int") == true)
        #expect(throws: Never.self) { try MXNetEngine.checkParametersSize(Int(Int32.max), fileName: "m-0000.params") }
    }

    @Test func refusesSymbolsThatAreNotMXNetGraphs() {
        expectRefusal("m-symbol.json", symbol: "[1, 2")
        expectRefusal("'heads'", symbol: #"{"nodes": []}"#)
    }

    @Test func refusesSignatureInputsTheGraphDoesNotHave() throws {
        let other = try ModelSignature(
            inputs: [.init(name: "pixels", shape: [0, 1, 8, 8])], inputType: .jpeg,
            outputs: [.init(name: "o", shape: [0, 10])], outputType: .json)
        expectRefusal("'pixels' is not an input", signature: other)
    }

    @Test func recognisesASoftmaxAtTheEnd() throws {
        let parsed = try MXNetSymbol(json: Data(symbol.utf8), fileName: "m-symbol.json")
        #expect(parsed.outputOperators == ["softmax"])
        #expect(parsed.outputNames == ["softmax_output"])
        #expect(parsed.variableNames == ["data", "w"])
    }
}
