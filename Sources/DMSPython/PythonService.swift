import DMSCore
import Foundation
import Logging

/// A custom service written in Python, as the seed defined them: a file whose class extends
/// `dms.mxnet_model_service.MXNetBaseService` and overrides `_preprocess` and `_postprocess`.
///
/// The service runs in worker processes of its own (`PythonWorkerPool`); the model itself still
/// runs in the server's engine, with its batching, queue and deadlines: `prepare` sends the
/// request's parts to a worker's `_preprocess` and gets one tensor per input back, `postprocess`
/// sends this request's outputs to `_postprocess` and gets the JSON answer. A service that
/// raises `dms.errors.InvalidInput` answers 400 with its message; any other exception 500 with
/// its type and message, its traceback in the server's output.
public struct PythonService: ModelService {
    /// Where the Python side is and how many processes serve one model.
    public struct Settings: Sendable {
        /// The interpreter (the project's `.runtime/venv/bin/python`).
        public var python: String
        /// The folder holding the `dms` package (the repository's `python/`).
        public var packagePath: String
        /// Worker processes per model, unless `workersByModel` names the model.
        public var workers: Int
        /// Worker processes of the models given their own number.
        public var workersByModel: [String: Int] = [:]
        /// The longest one worker may take to answer one request.
        public var timeout: Duration
        /// Where a service's `requirements.txt` is installed (a folder of the model store), or
        /// nil when the operator does not allow installing them (`--install-service-requirements`).
        public var requirementsCache: URL?

        public init(python: String, packagePath: String, workers: Int = 1, timeout: Duration = .seconds(30), requirementsCache: URL? = nil) {
            self.python = python
            self.packagePath = packagePath
            self.workers = workers
            self.timeout = timeout
            self.requirementsCache = requirementsCache
        }
    }

    let file: URL
    let signature: ModelSignature
    private let pool: PythonWorkerPool
    private let logger: Logger
    /// Whether the service overrides `_inference` and so answers whole requests itself.
    public let runsInference: Bool

    /// The workers and how many were replaced since the model loaded.
    public var statistics: [(key: String, value: JSONValue)] {
        [
            ("python_workers", .integer(Int64(pool.settings.workers))),
            ("python_worker_restarts", .integer(Int64(pool.restarts.load(ordering: .relaxed)))),
        ]
    }

    /// Starts the workers of `file` for the model of `artifacts`; a file that does not import or
    /// has no single service class is an `.invalidModel` error saying where and why.
    public static func start(file: URL, artifacts: ModelArtifacts, modelName: String, settings: Settings, logger: Logger) async throws(DMSError) -> PythonService {
        let model = JSONValue.object([
            ("name", .string(modelName)),
            ("directory", .string(artifacts.directory.path)),
            ("signature", signatureDocument(artifacts.signature)),
            ("labels", artifacts.labels.map { .array($0.map(JSONValue.string)) } ?? .null),
        ])
        let requirements = ServiceRequirements(besides: file)
        var pythonPath = settings.packagePath
        if let requirements, let cache = settings.requirementsCache {
            pythonPath = try await requirements.installed(into: cache, python: settings.python, logger: logger).path + ":" + pythonPath
        }
        let pool: PythonWorkerPool, runsInference: Bool
        do throws(DMSError) {
            (pool, runsInference) = try await PythonWorkerPool.start(
                settings: .init(
                    python: settings.python, pythonPath: pythonPath, workers: settings.workersByModel[modelName] ?? settings.workers,
                    timeout: settings.timeout),
                loadHeader: .object([("op", .string("load")), ("service_file", .string(file.path)), ("model", model)]),
                logger: logger)
        } catch where requirements != nil && settings.requirementsCache == nil {
            throw DMSError(
                error.code, "\(error.message) (the service's requirements.txt is installed only when the server is started with --install-service-requirements)")
        }
        return PythonService(file: file, signature: artifacts.signature, pool: pool, logger: logger, runsInference: runsInference)
    }

    public func prepare(_ request: PredictionRequest) async throws(DMSError) -> PreparedInputs {
        let answer = try await call(try requestFrame(request, op: "preprocess"), step: "_preprocess")
        return PreparedInputs(tensors: try Self.preprocessedTensors(in: answer, fileName: file.lastPathComponent))
    }

    /// The tensors a worker's answer to `_preprocess` holds: described in the header, their
    /// bytes in the payload.
    package static func preprocessedTensors(in answer: PythonFrame, fileName: String) throws(DMSError) -> [Tensor] {
        guard let tensors = answer.header["tensors"] as? [[String: Any]] else {
            throw DMSError(.internalError, "\(fileName): the worker's answer to _preprocess has no tensors")
        }
        var inputs: [Tensor] = []
        for (index, description) in tensors.enumerated() {
            guard let name = description["datatype"] as? String, let dataType = DataType(name: name),
                let shape = description["shape"] as? [Int], let elements = Tensor.checkedElementCount(of: shape)
            else {
                throw DMSError(.internalError, "\(fileName): _preprocess returned an array the server cannot read for input \(index)")
            }
            let bytes: ArraySlice<UInt8>
            do throws(PythonChannelError) {
                bytes = try answer.blob(description)
            } catch {
                throw DMSError(.internalError, "\(fileName): \(error)")
            }
            guard bytes.count == elements * dataType.byteWidth else {
                throw DMSError(.internalError, "\(fileName): _preprocess returned \(bytes.count) bytes for a \(name) array of shape \(shape)")
            }
            inputs.append(Tensor(dataType: dataType, shape: shape, bytes: Array(bytes)))
        }
        return inputs
    }

    public var runsModelItself: Bool { runsInference }

    /// A whole request, for a service that overrides `_inference`: its `inference(data)` answers.
    public func answerWithoutEngine(_ request: PredictionRequest) async throws(DMSError) -> PredictionResponse? {
        guard runsInference else { return nil }
        let answer = try await call(try requestFrame(request, op: "inference"), step: "inference")
        do throws(PythonChannelError) {
            return .bytes(Array(try answer.blob(answer.header["response"])), contentType: "application/json")
        } catch {
            throw DMSError(.internalError, "\(file.lastPathComponent): \(error)")
        }
    }

    /// The frame that sends the request's parts, in signature order, for `op`.
    private func requestFrame(_ request: PredictionRequest, op: String) throws(DMSError) -> [UInt8] {
        var frame = PythonFrameBuilder()
        var described: [JSONValue] = []
        for part in try request.partsInSignatureOrder(signature) {
            guard case .object(let fields) = frame.add(part.bytes) else { continue }
            described.append(.object([("name", .string(part.name)), ("content_type", part.contentType.map(JSONValue.string) ?? .null)] + fields))
        }
        return frame.encoded(header: .object([("op", .string(op)), ("parts", .array(described))]))
    }

    public func postprocess(_ outputs: [Tensor], for request: PredictionRequest) async throws(DMSError) -> PredictionResponse {
        var frame = PythonFrameBuilder()
        var described: [JSONValue] = []
        for output in outputs {
            guard case .object(let fields) = frame.add(output.bytes) else { continue }
            described.append(.object([("datatype", .string(output.dataType.rawValue)), ("shape", .array(output.shape.map { .integer(Int64($0)) }))] + fields))
        }
        let answer = try await call(frame.encoded(header: .object([("op", .string("postprocess")), ("tensors", .array(described))])), step: "_postprocess")
        do throws(PythonChannelError) {
            return .bytes(Array(try answer.blob(answer.header["response"])), contentType: "application/json")
        } catch {
            throw DMSError(.internalError, "\(file.lastPathComponent): \(error)")
        }
    }

    /// One exchange with a worker, its `error` answers turned into the request's error.
    private func call(_ frame: [UInt8], step: String) async throws(DMSError) -> PythonFrame {
        let answer = try await pool.exchange(frame)
        guard answer.header["op"] as? String == "error" else { return answer }
        let message = answer.header["message"] as? String ?? "no message"
        if answer.header["kind"] as? String == "input" {
            throw DMSError(.invalidInput, message)
        }
        if let traceback = answer.header["traceback"] as? String {
            logger.error("the Python service failed", metadata: ["file": "\(file.lastPathComponent)", "step": "\(step)", "traceback": "\(traceback)"])
        }
        throw DMSError(.internalError, "\(file.lastPathComponent): \(step) failed: \(message)")
    }

    /// The signature as the seed's services read `self.signature`.
    private static func signatureDocument(_ signature: ModelSignature) -> JSONValue {
        func specs(_ tensors: [ModelSignature.TensorSpec]) -> JSONValue {
            .array(tensors.map { spec in
                .object([
                    ("data_name", .string(spec.name)), ("data_shape", .array(spec.shape.map { .integer(Int64($0)) })),
                    ("data_type", .string(spec.dataType.rawValue)),
                ])
            })
        }
        return .object([
            ("inputs", specs(signature.inputs)), ("input_type", .string(signature.inputType.rawValue)),
            ("outputs", specs(signature.outputs)), ("output_type", .string(signature.outputType.rawValue)),
        ])
    }
}

extension PythonService.Settings {
    /// The project's Python environment, if there is one: the interpreter `.runtime/venv/bin/python`
    /// (or `$DMS_SERVICE_PYTHON`) and the folder of the `dms` package, `python/` (or
    /// `$DMS_SERVICE_PACKAGES`), each looked for in the current folder and the folders above the
    /// executable, as the engines' libraries are.
    public static func locate(workers: Int, timeout: Duration) -> PythonService.Settings? {
        let fileManager = FileManager.default
        let python = EngineLibraryLocation.projectCandidates(relativePath: ".runtime/venv/bin/python", environmentVariable: "DMS_SERVICE_PYTHON")
            .first { fileManager.isExecutableFile(atPath: $0) }
        let packages = EngineLibraryLocation.projectCandidates(relativePath: "python", environmentVariable: "DMS_SERVICE_PACKAGES")
            .first { fileManager.fileExists(atPath: $0 + "/dms/worker.py") }
        guard let python, let packages else { return nil }
        return PythonService.Settings(python: python, packagePath: packages, workers: workers, timeout: timeout)
    }
}
