import DMSCore
import DMSMXNet
import DMSONNX
import DMSPython
import Foundation
import Logging
import Testing

@testable import DMSServerApp

@Suite("deep-model-server --version")
struct VersionReportTests {
    @Test func aMissingEngineIsALineOfTheReportThatSaysWhereItWasLookedFor() {
        let engines: [any InferenceEngine] = [
            MXNetEngine(libraryCandidates: ["/nonexistent/libmxnet.so"], threadCount: 1, logger: Logger(label: "test")),
            ONNXEngine(libraryCandidates: ["/nonexistent/libonnxruntime.so"], intraOpThreadCount: 1, logger: Logger(label: "test")),
        ]
        let lines = VersionReport.text(commandName: "deep-model-server", cores: 3, engines: engines, python: nil).split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines[0] == "deep-model-server \(ServerVersion.current)")
        #expect(lines[1] == "CPU cores available: 3 (--engine-threads defaults to this ÷ the largest --workers)")
        #expect(lines[2].hasPrefix("MXNet: not available: ") && lines[2].contains("/nonexistent/libmxnet.so"))
        #expect(lines[3].hasPrefix("ONNX Runtime: not available: ") && lines[3].contains("/nonexistent/libonnxruntime.so"))
        #expect(lines[4].hasPrefix("Python services: not available: "))
    }

    @Test func aFoundEngineShowsItsVersionAndFileAndServicesTheirInterpreter() throws {
        // The real library, found as the server finds it (.runtime/lib or DMS_ONNXRUNTIME_LIBRARY).
        let engine = ONNXEngine(libraryCandidates: ONNXEngine.defaultLibraryCandidates(), intraOpThreadCount: 1, logger: Logger(label: "test"))
        let library = try engine.library()
        #expect(library.path.contains("libonnxruntime.so") && library.version.split(separator: ".").count == 3)
        let python = PythonService.Settings(python: "/venv/bin/python", packagePath: "/venv/site-packages", workers: 1, timeout: .seconds(1))
        let lines = VersionReport.text(commandName: "dms", cores: 1, engines: [engine], python: python).split(separator: "\n").map(String.init)
        #expect(lines == [
            "dms \(ServerVersion.current)", "CPU cores available: 1 (--engine-threads defaults to this ÷ the largest --workers)", "ONNX Runtime \(library.version): \(library.path)", "Python services: /venv/bin/python (dms package in /venv/site-packages)"])
    }
}
