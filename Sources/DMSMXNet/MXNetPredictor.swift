import DMSCore
import Foundation

/// One MXNet predictor: a model bound to fixed input shapes, with one engine handle per batch
/// size in use. MXNet's predict API binds shapes when it creates a handle; other batch sizes
/// come from `MXPredReshape`, which shares the weights but binds a new graph, and with oneDNN
/// each bound ResNet-18 keeps about 70 MiB of its own that MXNet does not give back when the
/// handle is freed (measured with MXPredReshape/MXPredFree through ctypes, batch 2 to 8), and
/// its first forward is twice as slow. So handles are prepared once for a few batch sizes (the
/// preferred sizes the scheduler batches to: the powers of two below the largest batch, and the
/// largest itself) and kept;
/// any other size (a single request carrying its own odd batch) gets a handle from a small
/// least-recently-used set of `maxUnpreparedHandles`.
///
/// Not thread-safe: the runtime's worker makes one call at a time, which is this type's
/// contract (and MXNet's: a handle must never be used from two threads at once).
final class MXNetPredictor: ModelPredictor, @unchecked Sendable {
    var description: PredictorDescription {
        var description = baseDescription
        description.preferredBatchSizes = preparedBatchSizes.sorted()
        return description
    }
    private let baseDescription: PredictorDescription
    private let library: MXNetLibrary
    private let signature: ModelSignature
    private let inputNames: [String]
    private let baseBatchSize: Int
    private var handles: [Int: MXNetLibrary.PredictorHandle] = [:]
    /// Batch sizes whose handles are kept for the predictor's life.
    private var preparedBatchSizes: Set<Int>
    /// Other batch sizes with a handle, least recently used first.
    private var unpreparedUseOrder: [Int] = []
    static let maxUnpreparedHandles = 2

    /// The batch sizes worth a handle of their own for batches of up to `maxBatchSize` rows:
    /// the powers of two below it, and itself.
    static func batchSizesToPrepare(upTo maxBatchSize: Int) -> [Int] {
        Array(sequence(first: 1) { $0 * 2 }.prefix { $0 < maxBatchSize }) + [max(1, maxBatchSize)]
    }

    init(library: MXNetLibrary, symbolJSON: Data, parameters: Data, signature: ModelSignature, description: PredictorDescription) throws(DMSError) {
        self.library = library
        self.signature = signature
        self.baseDescription = description
        self.inputNames = signature.inputs.map(\.name)
        let declaredBatch = signature.inputs[0].shape[0]
        self.baseBatchSize = declaredBatch > 0 ? declaredBatch : 1
        self.preparedBatchSizes = [baseBatchSize]
        let shapes = signature.inputs.map { $0.shape(batchSize: baseBatchSize) }
        for (spec, shape) in zip(signature.inputs, shapes) where shape.contains(where: { $0 <= 0 }) {
            throw DMSError(.invalidModel, "signature.json: input '\(spec.name)' has an unknown dimension \(spec.shape) beyond the batch; MXNet needs every dimension to create a predictor")
        }
        try MXNetEngine.checkParametersSize(parameters.count, fileName: "the parameters file")
        var handle: MXNetLibrary.PredictorHandle?
        let status = symbolJSON.withUnsafeBytes { symbolBytes -> Int32 in
            let symbolText = String(decoding: symbolBytes, as: UTF8.self)
            return parameters.withUnsafeBytes { parameterBytes in
                Self.withShapeArguments(names: inputNames, shapes: shapes) { keys, indptr, data in
                    library.create(
                        symbolText, parameterBytes.baseAddress, Int32(truncatingIfNeeded: parameterBytes.count), 1, 0,
                        UInt32(shapes.count), keys, indptr, data, &handle)
                }
            }
        }
        guard status == 0, let handle else {
            throw DMSError(.invalidModel, "MXNet could not create a predictor: \(library.lastError)")
        }
        handles[baseBatchSize] = handle
    }

    deinit {
        for handle in handles.values {
            _ = library.free(handle)
        }
    }

    /// Checks the engine's output shapes (at the base batch size) against the signature's.
    func checkOutputShapes(fileName: String) throws(DMSError) {
        let handle = try handle(batchSize: baseBatchSize)
        for (index, spec) in signature.outputs.enumerated() {
            let shape = try outputShape(handle, index: index)
            let matches = shape.count == spec.shape.count
                && zip(shape.dropFirst(), spec.shape.dropFirst()).allSatisfy { actual, declared in declared <= 0 || actual == declared }
            guard matches else {
                throw DMSError(
                    .invalidModel,
                    "signature.json: output '\(spec.name)' is declared \(spec.shape) but \(fileName) produces \(shape) for batch size \(baseBatchSize)")
            }
        }
    }

    /// Binds and warms up a handle for each of `batchSizes` (in ascending order) that the
    /// signature allows, and keeps them. Stops at the first size MXNet fails on and returns
    /// that failure; the sizes before it stay prepared.
    func prepare(batchSizes: [Int]) -> DMSError? {
        guard signature.inputs.allSatisfy(\.hasDynamicBatch) else { return nil }
        for size in batchSizes.sorted() where !preparedBatchSizes.contains(size) {
            do throws(DMSError) {
                let handle = try handle(batchSize: size)
                try warmUp(handle, batchSize: size)
                unpreparedUseOrder.removeAll { $0 == size }
                preparedBatchSizes.insert(size)
            } catch {
                return error
            }
        }
        do throws(DMSError) {
            try warmUp(try handle(batchSize: baseBatchSize), batchSize: baseBatchSize)
        } catch {
            return error
        }
        return nil
    }

    /// One forward pass on zeros: oneDNN builds its kernels on a handle's first run.
    private func warmUp(_ handle: MXNetLibrary.PredictorHandle, batchSize: Int) throws(DMSError) {
        for (name, spec) in zip(inputNames, signature.inputs) {
            let zeros = [Float](repeating: 0, count: Tensor.elementCount(of: spec.shape(batchSize: batchSize)))
            guard library.setInput(handle, name, zeros, try Self.cSize(zeros.count, of: "input '\(name)'")) == 0 else { throw engineError("setting input '\(name)' to warm up") }
        }
        guard library.forward(handle) == 0 else { throw engineError("warming up batch size \(batchSize)") }
        for index in signature.outputs.indices {
            let shape = try outputShape(handle, index: index)
            guard shape.first == batchSize || signature.outputs[index].shape.first.map({ $0 > 0 }) == true else {
                throw DMSError(.invalidModel, "output \(index) has shape \(shape) for a batch of \(batchSize)")
            }
        }
    }

    func predict(_ inputs: [Tensor]) throws(DMSError) -> [Tensor] {
        let batchSize = inputs[0].shape[0]
        let handle = try handle(batchSize: batchSize)
        for (name, tensor) in zip(inputNames, inputs) {
            guard tensor.dataType == .float32 else {
                throw DMSError(.invalidInput, "input '\(name)' must be FP32 for MXNet, got \(tensor.dataType.rawValue)")
            }
            let size = try Self.cSize(tensor.elementCount, of: "input '\(name)'")
            let status = tensor.withUnsafeBytes { raw in
                library.setInput(handle, name, raw.bindMemory(to: Float.self).baseAddress, size)
            }
            guard status == 0 else { throw engineError("setting input '\(name)'") }
        }
        guard library.forward(handle) == 0 else { throw engineError("running the model") }
        var outputs: [Tensor] = []
        for index in signature.outputs.indices {
            let shape = try outputShape(handle, index: index)
            let size = try Self.cSize(Tensor.elementCount(of: shape), of: "output \(index)")
            var failed = false
            let tensor = Tensor(shape: shape) { buffer in
                failed = library.getOutput(handle, UInt32(index), buffer.baseAddress, size) != 0
            }
            guard !failed else { throw engineError("reading output \(index)") }
            outputs.append(tensor)
        }
        return outputs
    }

    private func handle(batchSize: Int) throws(DMSError) -> MXNetLibrary.PredictorHandle {
        if let handle = handles[batchSize] {
            if let position = unpreparedUseOrder.firstIndex(of: batchSize) {
                unpreparedUseOrder.remove(at: position)
                unpreparedUseOrder.append(batchSize)
            }
            return handle
        }
        guard let base = handles[baseBatchSize] else {
            throw DMSError(.internalError, "the MXNet predictor has no base handle")
        }
        let shapes = signature.inputs.map { $0.shape(batchSize: batchSize) }
        var reshaped: MXNetLibrary.PredictorHandle?
        let status = Self.withShapeArguments(names: inputNames, shapes: shapes) { keys, indptr, data in
            library.reshape(UInt32(shapes.count), keys, indptr, data, base, &reshaped)
        }
        guard status == 0, let reshaped else { throw engineError("preparing batch size \(batchSize)") }
        if unpreparedUseOrder.count >= Self.maxUnpreparedHandles {
            let evicted = unpreparedUseOrder.removeFirst()
            if let handle = handles.removeValue(forKey: evicted) { _ = library.free(handle) }
        }
        handles[batchSize] = reshaped
        unpreparedUseOrder.append(batchSize)
        return reshaped
    }

    private func outputShape(_ handle: MXNetLibrary.PredictorHandle, index: Int) throws(DMSError) -> [Int] {
        var shapeData: UnsafeMutablePointer<UInt32>?
        var rank: UInt32 = 0
        guard library.getOutputShape(handle, UInt32(index), &shapeData, &rank) == 0, let shapeData else {
            throw engineError("reading the shape of output \(index)")
        }
        return (0..<Int(rank)).map { Int(shapeData[$0]) }
    }

    /// An element count as the C API's `mx_uint` (32 bits), which MXNet's predict API uses for
    /// every size: a larger tensor is an error, never a truncated count.
    private static func cSize(_ count: Int, of what: String) throws(DMSError) -> UInt32 {
        guard let size = UInt32(exactly: count) else {
            throw DMSError(.engineFailure, "\(what) has \(count) elements; MXNet's predict API takes at most \(UInt32.max) per tensor")
        }
        return size
    }

    private func engineError(_ action: String) -> DMSError {
        DMSError(.engineFailure, "MXNet failed while \(action): \(library.lastError)")
    }

    /// Calls `body` with the C arrays MXNet takes for named input shapes: the names, the CSR
    /// index pointer, and the concatenated dimensions.
    private static func withShapeArguments<R>(
        names: [String], shapes: [[Int]],
        _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UInt32>, UnsafePointer<UInt32>) -> R
    ) -> R {
        let cNames = names.map { strdup($0) }
        defer { cNames.forEach { Foundation.free($0) } }
        var indptr: [UInt32] = [0]
        for shape in shapes { indptr.append(indptr.last! + UInt32(shape.count)) }
        let data = shapes.flatMap { $0.map(UInt32.init) }
        let keys = cNames.map { UnsafePointer<CChar>($0) }
        return keys.withUnsafeBufferPointer { keyBuffer in
            indptr.withUnsafeBufferPointer { indptrBuffer in
                data.withUnsafeBufferPointer { dataBuffer in
                    body(keyBuffer.baseAddress!, indptrBuffer.baseAddress!, dataBuffer.baseAddress!)
                }
            }
        }
    }
}
