import DMSCore
import Foundation

/// An ONNX Runtime session: one model loaded from its file, with its inputs and outputs.
///
/// Threads, chosen for a server where each model has one worker thread that makes one call at
/// a time (see `ONNXEngine`):
/// - intra-op threads (those that split one operator, such as a convolution): as asked;
///   ONNX Runtime runs the calling thread plus that number minus one pool threads;
/// - inter-op threads: 1, and the graph runs one node after another (ONNX Runtime's sequential
///   mode, its default), so a request never fans out beyond its intra-op threads;
/// - `session.intra_op.allow_spinning` = 0: idle pool threads sleep instead of spinning while
///   they wait for work, so a model between requests leaves the cores to the other models and to
///   the HTTP threads, at the price of a wake-up per parallel operator.
///
/// Not thread-safe by contract: the owner makes one call at a time.
final class ONNXSession {
    let library: ONNXRuntimeLibrary
    let inputs: [ONNXTensorInfo]
    let outputs: [ONNXTensorInfo]
    private let handle: OpaquePointer

    /// Loads `model` with `intraOpThreadCount` intra-op threads (0 or less: ONNX Runtime's
    /// default, one per core); errors are `.invalidModel` and carry ONNX Runtime's message.
    init(library: ONNXRuntimeLibrary, model: URL, intraOpThreadCount: Int) throws(DMSError) {
        self.library = library
        let fileName = model.lastPathComponent
        var options: OpaquePointer?
        try library.check(library.createSessionOptions(&options), .invalidModel, "\(fileName): cannot create session options")
        defer { library.releaseSessionOptions(options) }
        let enableAll: Int32 = 99  // ORT_ENABLE_ALL
        try library.check(
            library.setSessionGraphOptimizationLevel(options, enableAll), .invalidModel, "\(fileName): cannot set the graph optimization level")
        try library.check(
            library.setIntraOpNumThreads(options, Int32(clamping: max(0, intraOpThreadCount))), .invalidModel,
            "\(fileName): cannot set \(intraOpThreadCount) intra-op threads")
        try library.check(library.setInterOpNumThreads(options, 1), .invalidModel, "\(fileName): cannot set 1 inter-op thread")
        try library.check(
            library.addSessionConfigEntry(options, "session.intra_op.allow_spinning", "0"), .invalidModel,
            "\(fileName): cannot turn off spinning of the intra-op threads")
        var session: OpaquePointer?
        try library.check(
            library.createSession(library.environment, model.path, options, &session), .invalidModel,
            "\(fileName): ONNX Runtime cannot load the model")
        guard let session else {
            throw DMSError(.invalidModel, "\(fileName): ONNX Runtime returned no session")
        }
        do throws(DMSError) {
            inputs = try Self.describe(
                library, session, fileName: fileName, kind: "input", count: library.sessionGetInputCount,
                name: library.sessionGetInputName, typeInfo: library.sessionGetInputTypeInfo)
            outputs = try Self.describe(
                library, session, fileName: fileName, kind: "output", count: library.sessionGetOutputCount,
                name: library.sessionGetOutputName, typeInfo: library.sessionGetOutputTypeInfo)
        } catch {
            library.releaseSession(session)
            throw error
        }
        handle = session
    }

    deinit {
        library.releaseSession(handle)
    }

    /// Runs the model on `inputs` (fed by `inputNames`) and returns the outputs named in
    /// `outputNames`, in that order, copied out of ONNX Runtime's memory.
    ///
    /// ONNX Runtime reads each input straight from the tensor's storage, which stays borrowed
    /// until `Run` returns.
    func run(_ inputs: [Tensor], inputNames: [String], outputNames: [String]) throws(DMSError) -> [Tensor] {
        let result = withInputValues(inputs[...], inputNames: inputNames) { values in
            Self.withCStrings(inputNames) { inputNamePointers in
                Self.withCStrings(outputNames) { outputNamePointers in
                    var outputValues = [OpaquePointer?](repeating: nil, count: outputNames.count)
                    defer { outputValues.forEach(library.releaseValue) }
                    let status = library.run(
                        handle, nil, inputNamePointers, values, values.count, outputNamePointers, outputNamePointers.count, &outputValues)
                    do throws(DMSError) {
                        try library.check(status, .engineFailure, "ONNX Runtime failed while running the model")
                        let outputs = try zip(outputNames, outputValues).map { name, value throws(DMSError) in
                            try copyTensor(value, name: name)
                        }
                        return .success(outputs)
                    } catch {
                        return .failure(error)
                    }
                }
            }
        }
        return try result.get()
    }

    /// Calls `body` with one ONNX Runtime value per tensor, each borrowing its tensor's bytes;
    /// the values are released when `body` returns.
    private func withInputValues(
        _ tensors: ArraySlice<Tensor>, inputNames: [String], created: [OpaquePointer?] = [],
        _ body: ([OpaquePointer?]) -> Result<[Tensor], DMSError>
    ) -> Result<[Tensor], DMSError> {
        guard let tensor = tensors.first else { return body(created) }
        let name = inputNames[created.count]
        return tensor.withUnsafeBytes { bytes in
            var value: OpaquePointer?
            let shape = tensor.shape.map(Int64.init)
            // The pointer is mutable only in the C signature: ONNX Runtime never writes to inputs.
            let status = shape.withUnsafeBufferPointer { dimensions in
                library.createTensorWithData(
                    library.cpuMemoryInfo, UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count, dimensions.baseAddress,
                    dimensions.count, tensor.dataType.onnxElementType, &value)
            }
            defer { library.releaseValue(value) }
            do throws(DMSError) {
                try library.check(status, .engineFailure, "ONNX Runtime cannot take input '\(name)'")
            } catch {
                return .failure(error)
            }
            return withInputValues(tensors.dropFirst(), inputNames: inputNames, created: created + [value], body)
        }
    }

    /// A DMS tensor holding a copy of an output value's elements.
    private func copyTensor(_ value: OpaquePointer?, name: String) throws(DMSError) -> Tensor {
        var info: OpaquePointer?
        try library.check(library.getTensorTypeAndShape(value, &info), .engineFailure, "ONNX Runtime cannot describe output '\(name)'")
        defer { library.releaseTensorTypeAndShapeInfo(info) }
        let (elementType, dimensions) = try Self.elementTypeAndDimensions(library, info, .engineFailure, context: "output '\(name)'")
        guard let dataType = DataType(onnxElementType: elementType) else {
            throw DMSError(
                .engineFailure, "output '\(name)' holds \(DataType.onnxElementTypeName(elementType)) elements, which DMS cannot return")
        }
        let shape = dimensions.map(Int.init)
        var data: UnsafeMutableRawPointer?
        try library.check(library.getTensorMutableData(value, &data), .engineFailure, "ONNX Runtime cannot read output '\(name)'")
        let byteCount = Tensor.elementCount(of: shape) * dataType.byteWidth
        guard byteCount == 0 || data != nil else {
            throw DMSError(.engineFailure, "ONNX Runtime returned no data for output '\(name)' of shape \(shape)")
        }
        let bytes = byteCount == 0 ? [] : [UInt8](UnsafeRawBufferPointer(start: data, count: byteCount))
        return Tensor(dataType: dataType, shape: shape, bytes: bytes)
    }

    /// The inputs or outputs of `session` (`kind` says which, the functions read them).
    private static func describe(
        _ library: ONNXRuntimeLibrary, _ session: OpaquePointer, fileName: String, kind: String,
        count getCount: ONNXRuntimeLibrary.GetCountFunction, name getName: ONNXRuntimeLibrary.GetNameFunction,
        typeInfo getTypeInfo: ONNXRuntimeLibrary.GetTypeInfoFunction
    ) throws(DMSError) -> [ONNXTensorInfo] {
        var count = 0
        try library.check(getCount(session, &count), .invalidModel, "\(fileName): cannot count the model's \(kind)s")
        var described: [ONNXTensorInfo] = []
        for index in 0..<count {
            var namePointer: UnsafeMutablePointer<CChar>?
            try library.check(
                getName(session, index, library.defaultAllocator, &namePointer), .invalidModel,
                "\(fileName): cannot read the name of \(kind) \(index)")
            let name = namePointer.map { String(cString: $0) } ?? ""
            try library.check(
                library.allocatorFree(library.defaultAllocator, namePointer), .invalidModel,
                "\(fileName): cannot free the name of \(kind) '\(name)'")

            var typeInfo: OpaquePointer?
            try library.check(getTypeInfo(session, index, &typeInfo), .invalidModel, "\(fileName): cannot read the type of \(kind) '\(name)'")
            defer { library.releaseTypeInfo(typeInfo) }
            // Owned by `typeInfo`; nil when the value is not a tensor.
            var tensorInfo: OpaquePointer?
            try library.check(
                library.castTypeInfoToTensorInfo(typeInfo, &tensorInfo), .invalidModel,
                "\(fileName): cannot read the type of \(kind) '\(name)'")
            guard let tensorInfo else {
                throw DMSError(
                    .invalidModel, "\(fileName): \(kind) '\(name)' is not a tensor (a sequence, map or optional); DMS serves tensors only")
            }
            let (elementType, dimensions) = try elementTypeAndDimensions(
                library, tensorInfo, .invalidModel, context: "\(fileName): \(kind) '\(name)'")
            var symbols = [UnsafePointer<CChar>?](repeating: nil, count: dimensions.count)
            try library.check(
                library.getSymbolicDimensions(tensorInfo, &symbols, symbols.count), .invalidModel,
                "\(fileName): cannot read the dimension names of \(kind) '\(name)'")
            described.append(
                ONNXTensorInfo(
                    name: name, elementType: elementType, dimensions: dimensions,
                    dimensionNames: symbols.map { $0.map { String(cString: $0) } ?? "" }))
        }
        return described
    }

    /// The element type and dimensions in an `OrtTensorTypeAndShapeInfo`.
    private static func elementTypeAndDimensions(
        _ library: ONNXRuntimeLibrary, _ info: OpaquePointer?, _ code: DMSError.Code, context: String
    ) throws(DMSError) -> (elementType: Int32, dimensions: [Int64]) {
        var elementType: Int32 = 0
        var rank = 0
        try library.check(library.getTensorElementType(info, &elementType), code, "\(context): cannot read the element type")
        try library.check(library.getDimensionsCount(info, &rank), code, "\(context): cannot read the rank")
        var dimensions = [Int64](repeating: 0, count: rank)
        try library.check(library.getDimensions(info, &dimensions, rank), code, "\(context): cannot read the dimensions")
        return (elementType, dimensions)
    }

    /// Calls `body` with the strings as C strings.
    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        return body(copies.map { UnsafePointer($0) })
    }
}
