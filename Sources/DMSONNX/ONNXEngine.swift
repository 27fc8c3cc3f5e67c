import DMSCore
import Foundation
import Logging

/// The ONNX Runtime engine: runs `*.onnx` models through libonnxruntime's C API.
///
/// Threads: each model gets `intraOpThreadCount` intra-op threads, by default one per core, one
/// inter-op thread, and idle threads that sleep rather than spin (see `ONNXSession`). A model's
/// worker makes one call at a time, so one request can use every core (ResNet-18 at batch 1 ran
/// in 16.9 ms with 2 threads against 30.0 ms with 1 on a 2-core machine); when several models
/// are busy at once their threads share the cores, which costs little because none of them spins.
/// Lower the count when many models serve at once and throughput matters more than latency.
public struct ONNXEngine: InferenceEngine {
    /// Paths tried in order for `libonnxruntime.so`.
    public var libraryCandidates: [String]
    /// Threads that split one operator, per model; 0 lets ONNX Runtime choose (one per core).
    public var intraOpThreadCount: Int
    public var logger: Logger

    public var name: String { "ONNX Runtime" }

    public init(libraryCandidates: [String], intraOpThreadCount: Int = ProcessInfo.processInfo.activeProcessorCount, logger: Logger) {
        self.libraryCandidates = libraryCandidates
        self.intraOpThreadCount = intraOpThreadCount
        self.logger = logger
    }

    /// Where to look for `libonnxruntime.so` (see `EngineLibraryLocation`; the variable is `DMS_ONNXRUNTIME_LIBRARY`).
    public static func defaultLibraryCandidates(executable: URL = EngineLibraryLocation.runningExecutable) -> [String] {
        EngineLibraryLocation.candidates(fileName: "libonnxruntime.so", environmentVariable: "DMS_ONNXRUNTIME_LIBRARY", executable: executable)
    }

    public func library() throws(DMSError) -> EngineLibrary {
        let library = try ONNXRuntimeLibrary.load(candidates: libraryCandidates, logger: logger)
        return EngineLibrary(version: library.version, path: library.path)
    }

    public var format: any ModelFormat { ONNXFormat() }

    /// Loads the model and checks it against the signature: the signature must declare every
    /// model input, by name, and nothing else; each declared input and output must exist in
    /// the model with the same element type, the same rank and the same size wherever both fix
    /// one. Every mismatch is an `.invalidModel` error naming the tensor.
    ///
    /// When the signature gives every dimension but the batch, the model is then run on zeros
    /// at batch 1 and at `maxBatchSize`, twice each, so the first requests do not pay for ONNX
    /// Runtime planning its kernels and memory: it plans a shape's memory on the first run and
    /// allocates that plan on the second (18 MiB for ResNet-18 at batch 8, which otherwise
    /// appeared under the first overload). Each other batch size costs such a plan once when it
    /// first runs. A model that fails on zeros is served anyway, with a warning.
    public func load(_ artifacts: ModelArtifacts, maxBatchSize: Int) throws(DMSError) -> any ModelPredictor {
        let model = try artifacts.engineFiles.file(ONNXFormat.modelRole)
        let library = try ONNXRuntimeLibrary.load(candidates: libraryCandidates, logger: logger)
        let session = try ONNXSession(library: library, model: model, intraOpThreadCount: intraOpThreadCount)
        try Self.check(artifacts.signature, against: session, fileName: model.lastPathComponent)
        let predictor = ONNXPredictor(session: session, signature: artifacts.signature)
        for batchSize in Set([1, maxBatchSize]).sorted() {
            let shapes = artifacts.signature.inputs.map { $0.shape(batchSize: batchSize) }
            guard shapes.allSatisfy({ $0.allSatisfy { $0 > 0 } }) else { break }
            let zeros = zip(artifacts.signature.inputs, shapes).map { spec, shape in
                Tensor(dataType: spec.dataType, shape: shape, bytes: [UInt8](repeating: 0, count: Tensor.elementCount(of: shape) * spec.dataType.byteWidth))
            }
            do throws(DMSError) {
                // Twice: ONNX Runtime plans a shape's memory on its first run and allocates that
                // plan's block on the second.
                _ = try predictor.predict(zeros)
                _ = try predictor.predict(zeros)
            } catch {
                logger.warning("the model failed a warm-up run on zeros", metadata: ["model": "\(model.lastPathComponent)", "batch_size": "\(batchSize)", "reason": "\(error.message)"])
                break
            }
        }
        return predictor
    }

    /// The signature the `.onnx` file declares about itself (see `readSignature`), for serving it
    /// without `signature.json`.
    public func signature(of files: ModelArtifacts.EngineFiles) throws(DMSError) -> ModelSignature {
        let model = try files.file(ONNXFormat.modelRole)
        return try Self.readSignature(of: model, libraryCandidates: libraryCandidates, logger: logger)
    }

    /// The signature of a bare `.onnx` file, read from the model itself: its inputs and outputs
    /// in the model's order, dynamic dimensions as 0, and JSON in and out.
    public static func readSignature(
        of model: URL, libraryCandidates: [String] = defaultLibraryCandidates(), logger: Logger
    ) throws(DMSError) -> ModelSignature {
        let library = try ONNXRuntimeLibrary.load(candidates: libraryCandidates, logger: logger)
        let session = try ONNXSession(library: library, model: model, intraOpThreadCount: 1)
        let fileName = model.lastPathComponent
        func specs(_ tensors: [ONNXTensorInfo], kind: String) throws(DMSError) -> [ModelSignature.TensorSpec] {
            try tensors.map { tensor throws(DMSError) in
                let dataType = try supportedType(of: tensor, kind: kind, fileName: fileName)
                return .init(name: tensor.name, shape: tensor.shape.map { max($0, 0) }, dataType: dataType)
            }
        }
        return try ModelSignature(
            inputs: specs(session.inputs, kind: "input"), inputType: .json,
            outputs: specs(session.outputs, kind: "output"), outputType: .json)
    }

    private static func check(_ signature: ModelSignature, against session: ONNXSession, fileName: String) throws(DMSError) {
        let modelInputs = session.inputs.map(\.name).joined(separator: ", ")
        for spec in signature.inputs {
            guard let input = session.inputs.first(where: { $0.name == spec.name }) else {
                throw DMSError(
                    .invalidModel, "signature.json: input '\(spec.name)' is not an input of \(fileName) (its inputs: \(modelInputs))")
            }
            try check(spec, against: input, kind: "input", fileName: fileName)
        }
        if let undeclared = session.inputs.first(where: { input in !signature.inputs.contains { $0.name == input.name } }) {
            throw DMSError(
                .invalidModel,
                "signature.json does not declare input '\(undeclared.name)' of \(fileName); the model needs all of its inputs (\(modelInputs))")
        }
        let modelOutputs = session.outputs.map(\.name).joined(separator: ", ")
        for spec in signature.outputs {
            guard let output = session.outputs.first(where: { $0.name == spec.name }) else {
                throw DMSError(
                    .invalidModel, "signature.json: output '\(spec.name)' is not an output of \(fileName) (its outputs: \(modelOutputs))")
            }
            try check(spec, against: output, kind: "output", fileName: fileName)
        }
    }

    private static func check(_ spec: ModelSignature.TensorSpec, against tensor: ONNXTensorInfo, kind: String, fileName: String) throws(DMSError) {
        let dataType = try supportedType(of: tensor, kind: kind, fileName: fileName)
        guard spec.dataType == dataType else {
            throw DMSError(
                .invalidModel, "signature.json: \(kind) '\(spec.name)' is declared \(spec.dataType.rawValue) but \(fileName) has \(dataType.rawValue)")
        }
        guard tensor.agrees(with: spec.shape) else {
            throw DMSError(
                .invalidModel, "signature.json: \(kind) '\(spec.name)' is declared \(spec.shape) but \(fileName) has \(tensor.shapeDescription)")
        }
    }

    private static func supportedType(of tensor: ONNXTensorInfo, kind: String, fileName: String) throws(DMSError) -> DataType {
        guard let dataType = tensor.dataType else {
            throw DMSError(
                .invalidModel,
                "\(fileName): \(kind) '\(tensor.name)' holds \(DataType.onnxElementTypeName(tensor.elementType)) elements; "
                    + "DMS supports \(DataType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return dataType
    }
}
