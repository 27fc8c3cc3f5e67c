import DMSCore
import Foundation
import Logging

/// The MXNet engine: runs `*-symbol.json` + `*.params` models through libmxnet's C predict API.
public struct MXNetEngine: InferenceEngine {
    /// Paths tried in order for `libmxnet.so`.
    public var libraryCandidates: [String]
    /// OpenMP threads per engine call (`OMP_NUM_THREADS`, unless set in the environment). MXNet
    /// reads it once, when the library loads, so the first engine to load a model decides it
    /// for the whole process.
    public var threadCount: Int
    public var logger: Logger

    public var name: String { "MXNet" }

    public init(libraryCandidates: [String], threadCount: Int = ProcessInfo.processInfo.activeProcessorCount, logger: Logger) {
        self.libraryCandidates = libraryCandidates
        self.threadCount = threadCount
        self.logger = logger
    }

    /// Where to look for `libmxnet.so` (see `EngineLibraryLocation`; the variable is `DMS_MXNET_LIBRARY`).
    public static func defaultLibraryCandidates(executable: URL = EngineLibraryLocation.runningExecutable) -> [String] {
        EngineLibraryLocation.candidates(fileName: "libmxnet.so", environmentVariable: "DMS_MXNET_LIBRARY", executable: executable)
    }

    public func library() throws(DMSError) -> EngineLibrary {
        let library = try MXNetLibrary.load(candidates: libraryCandidates, threadCount: threadCount, logger: logger)
        return EngineLibrary(version: library.version, path: library.path)
    }

    public var format: any ModelFormat { MXNetFormat() }

    /// Held while a predictor is made; blocking is right here: `load` runs on a worker's own
    /// thread, never on the cooperative pool.
    private static let predictorCreation = NSLock()

    /// Loads the model and prepares a bound predictor for each batch size the scheduler will
    /// form, `MXNetPredictor.batchSizesToPrepare(upTo: maxBatchSize)`, each run once on zeros so
    /// the first request of that size pays nothing extra. A size MXNet cannot reshape to (a
    /// graph with a fixed batch inside) stops the preparation there: the model then batches only
    /// up to the sizes prepared, and the log says why.
    ///
    /// Predictors are made one at a time in the whole process (MXNet crashes when two threads
    /// create predictors at once), also when models are registered or changed side by side.
    public func load(_ artifacts: ModelArtifacts, maxBatchSize: Int) throws(DMSError) -> any ModelPredictor {
        let checked = try Self.checkFiles(artifacts)
        let library = try MXNetLibrary.load(candidates: libraryCandidates, threadCount: threadCount, logger: logger)
        Self.predictorCreation.lock()
        defer { Self.predictorCreation.unlock() }
        let predictor = try MXNetPredictor(
            library: library, symbolJSON: checked.symbolData, parameters: checked.parameters, signature: artifacts.signature,
            description: PredictorDescription(
                outputNames: Array(checked.symbol.outputNames.prefix(artifacts.signature.outputs.count)),
                outputActivation: checked.symbol.outputOperators.first.map(MXNetSymbol.softmaxOperators.contains) == true ? .softmax : .none))
        try predictor.checkOutputShapes(fileName: checked.symbolName)
        if let failure = predictor.prepare(batchSizes: MXNetPredictor.batchSizesToPrepare(upTo: maxBatchSize)) {
            logger.warning(
                "MXNet cannot run this model at every batch size; batches stay within the sizes prepared",
                metadata: ["prepared": "\(predictor.description.preferredBatchSizes ?? [])", "reason": "\(failure.message)"])
        }
        return predictor
    }

    /// For `deep-model-export`, the checks that need no engine library (`checkFiles`), so an
    /// MXNet model can be packed on a machine without MXNet.
    public func checkForExport(_ artifacts: ModelArtifacts) throws(DMSError) {
        _ = try Self.checkFiles(artifacts)
    }

    /// The checks that need no engine: the parameters file starts with MXNet's magic number,
    /// the symbol is an MXNet graph, and the signature's inputs are variables of that graph.
    static func checkFiles(_ artifacts: ModelArtifacts) throws(DMSError) -> (symbol: MXNetSymbol, symbolName: String, symbolData: Data, parameters: Data) {
        let symbolURL = try artifacts.engineFiles.file(MXNetFormat.symbolRole)
        let parametersURL = try artifacts.engineFiles.file(MXNetFormat.parametersRole)
        try checkParametersSize(parametersURL)
        let symbolData = try read(symbolURL)
        let parameters = try read(parametersURL)
        try checkParametersMagic(parameters, fileName: parametersURL.lastPathComponent)
        let symbol = try MXNetSymbol(json: symbolData, fileName: symbolURL.lastPathComponent)
        let signature = artifacts.signature
        for input in signature.inputs where input.dataType != .float32 {
            throw DMSError(.invalidModel, "signature.json: input '\(input.name)' is \(input.dataType.rawValue); MXNet's predict API takes FP32 inputs only")
        }
        for input in signature.inputs where !symbol.variableNames.contains(input.name) {
            throw DMSError(.invalidModel, "signature.json: input '\(input.name)' is not an input of \(symbolURL.lastPathComponent)")
        }
        guard signature.outputs.count <= symbol.outputNames.count else {
            throw DMSError(
                .invalidModel,
                "signature.json declares \(signature.outputs.count) outputs but \(symbolURL.lastPathComponent) has \(symbol.outputNames.count)")
        }
        return (symbol, symbolURL.lastPathComponent, symbolData, parameters)
    }

    /// MXNet's C predict API takes the parameters as one buffer whose size is a C `int`
    /// (`MXPredCreate`'s `param_size`), so a file of 2 GiB or more cannot be handed to it; it
    /// is refused before being read.
    static func checkParametersSize(_ url: URL) throws(DMSError) {
        let size: Int
        do {
            size = try url.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0
        } catch {
            throw DMSError(.invalidModel, "\(url.lastPathComponent): cannot read (\(error))", cause: error)
        }
        try checkParametersSize(size, fileName: url.lastPathComponent)
    }

    static func checkParametersSize(_ size: Int, fileName: String) throws(DMSError) {
        guard size <= Int(Int32.max) else {
            throw DMSError(
                .invalidModel,
                "\(fileName) is \(size) bytes; MXNet's C predict API takes the parameters' size as a C int, so it loads files of at most \(Int32.max) bytes (2 GiB - 1)")
        }
    }

    /// MXNet's NDArray list files start with the magic number 0x112 as a little-endian UInt64.
    static func checkParametersMagic(_ data: Data, fileName: String) throws(DMSError) {
        let magic: UInt64 = 0x112
        guard data.count >= 16, data.prefix(8).withUnsafeBytes({ $0.loadUnaligned(as: UInt64.self) }) == magic.littleEndian else {
            throw DMSError(.invalidModel, "\(fileName): not an MXNet parameters file (it does not start with MXNet's NDArray-list magic number)")
        }
    }

    private static func read(_ url: URL) throws(DMSError) -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw DMSError(.invalidModel, "\(url.lastPathComponent): cannot read (\(error))", cause: error)
        }
    }
}
