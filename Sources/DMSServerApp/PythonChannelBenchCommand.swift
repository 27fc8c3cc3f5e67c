import ArgumentParser
import DMSCore
import DMSPython
import Foundation
import Logging

/// The cost of the channel to a Python service's worker, per request: a pass-through service
/// (its `_preprocess` returns the request's bytes as one float32 tensor, its `_postprocess` a
/// number) driven through `PythonService` exactly as the server drives it, one request at a
/// time, without HTTP or an engine. Prints one JSON object:
/// `{"tensor_shape", "tensor_bytes", "output_shape", "requests", "ms_per_request_p50", "ms_per_request_p90",
/// "preprocess_ms_p50", "postprocess_ms_p50"}`.
struct PythonChannelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "python-channel", abstract: "Measure the round trips to a Python service's worker, per request.")

    @Option(help: "Input tensor shape, batch first, e.g. 1,3,224,224 (ResNet-18's).")
    var shape: String = "1,3,224,224"

    @Option(help: "Output classes (the [1, N] float32 output sent to _postprocess).")
    var classes: Int = 1000

    @Option(help: "Seconds to measure.")
    var seconds: Double = 10

    static let passThrough = """
        import numpy as np
        from dms.mxnet_model_service import MXNetBaseService


        class PassThrough(MXNetBaseService):
            def _preprocess(self, data):
                shape = self.signature["inputs"][0]["data_shape"]
                return [np.frombuffer(data[0], dtype=np.float32).reshape([1] + shape[1:])]

            def _postprocess(self, data):
                return int(data[0].shape[1])
        """

    func run() async throws {
        let dimensions = shape.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard dimensions.count == 4, dimensions.allSatisfy({ $0 > 0 }), [1, 3].contains(dimensions[1]), classes > 0 else {
            throw ValidationError("--shape must be N,C,H,W with C 1 or 3, and --classes positive")
        }
        guard let settings = PythonService.Settings.locate(workers: 1, timeout: .seconds(60)) else {
            throw ValidationError("no Python environment for services was found (.runtime/venv and python/dms)")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dms-python-channel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("pass_through.py")
        try Data(Self.passThrough.utf8).write(to: file)
        do throws(DMSError) {
            let signature = try ModelSignature(
                inputs: [.init(name: "data", shape: [0] + dimensions.dropFirst())], inputType: .jpeg,
                outputs: [.init(name: "scores", shape: [0, classes])], outputType: .json)
            let artifacts = ModelArtifacts(directory: folder, signature: signature, engineFiles: .init(format: "none", files: [:]), labels: nil, manifestService: nil)
            let service = try await PythonService.start(file: file, artifacts: artifacts, modelName: "pass-through", settings: settings, logger: Logger(label: "deep-model-bench"))
            let elements = dimensions.reduce(1, *)
            let request = PredictionRequest(parts: [.init(name: "input0", bytes: [UInt8](repeating: 0, count: elements * 4))])
            let output = [Tensor(shape: [1, classes], floats: [Float](repeating: 0.001, count: classes))]
            var totals: [Double] = [], preprocessing: [Double] = [], postprocessing: [Double] = []
            let clock = ContinuousClock()
            _ = try await service.postprocess(output, for: request)
            _ = try await service.prepare(request)
            let end = clock.now + .milliseconds(Int64(seconds * 1000))
            repeat {
                let start = clock.now
                _ = try await service.prepare(request)
                let prepared = clock.now
                _ = try await service.postprocess(output, for: request)
                let done = clock.now
                preprocessing.append(Self.milliseconds(prepared - start))
                postprocessing.append(Self.milliseconds(done - prepared))
                totals.append(Self.milliseconds(done - start))
            } while clock.now < end
            func percentile(_ values: [Double], _ fraction: Double) -> Double {
                let sorted = values.sorted()
                return sorted[min(sorted.count - 1, Int(fraction * Double(sorted.count)))]
            }
            let document = JSONValue.object([
                ("tensor_shape", .array(dimensions.map { .integer(Int64($0)) })),
                ("tensor_bytes", .integer(Int64(elements * 4))),
                ("output_shape", .array([.integer(1), .integer(Int64(classes))])),
                ("requests", .integer(Int64(totals.count))),
                ("ms_per_request_p50", .number(percentile(totals, 0.5))),
                ("ms_per_request_p90", .number(percentile(totals, 0.9))),
                ("preprocess_ms_p50", .number(percentile(preprocessing, 0.5))),
                ("postprocess_ms_p50", .number(percentile(postprocessing, 0.5))),
            ])
            FileHandle.standardOutput.write(Data(document.serialized() + [UInt8(ascii: "\n")]))
        } catch {
            throw ValidationError(error.message)
        }
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) * 1e-15
    }
}
