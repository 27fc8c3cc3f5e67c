import DMSCore
import Foundation

/// One MXNet predictor: a model bound to fixed input shapes, with one engine handle per batch
/// size in use (MXNet's predict API binds shapes at creation; other batch sizes come from
/// `MXPredReshape`, which shares the weights and costs a graph binding, so handles are kept for
/// reuse). At most `maxReshapedHandles` reshaped handles are kept, the least recently used
/// freed first, so clients sending many distinct batch sizes cannot grow memory without bound.
///
/// Not thread-safe: the runtime's worker makes one call at a time, which is this type's
/// contract (and MXNet's: a handle must never be used from two threads at once).
final class MXNetPredictor: ModelPredictor, @unchecked Sendable {
    let description: PredictorDescription
    private let library: MXNetLibrary
    private let signature: ModelSignature
    private let inputNames: [String]
    private let baseBatchSize: Int
    private var handles: [Int: MXNetLibrary.PredictorHandle] = [:]
    /// Reshaped batch sizes, least recently used first (the base handle is never freed).
    private var reshapedUseOrder: [Int] = []
    static let maxReshapedHandles = 16

    init(library: MXNetLibrary, symbolJSON: Data, parameters: Data, signature: ModelSignature, description: PredictorDescription) throws(DMSError) {
        self.library = library
        self.signature = signature
        self.description = description
        self.inputNames = signature.inputs.map(\.name)
        let declaredBatch = signature.inputs[0].shape[0]
        self.baseBatchSize = declaredBatch > 0 ? declaredBatch : 1
        let shapes = signature.inputs.map { $0.shape(batchSize: baseBatchSize) }
        for (spec, shape) in zip(signature.inputs, shapes) where shape.contains(where: { $0 <= 0 }) {
            throw DMSError(.invalidModel, "signature.json: input '\(spec.name)' has an unknown dimension \(spec.shape) beyond the batch; MXNet needs every dimension to create a predictor")
        }
        var handle: MXNetLibrary.PredictorHandle?
        let status = symbolJSON.withUnsafeBytes { symbolBytes -> Int32 in
            let symbolText = String(decoding: symbolBytes, as: UTF8.self)
            return parameters.withUnsafeBytes { parameterBytes in
                Self.withShapeArguments(names: inputNames, shapes: shapes) { keys, indptr, data in
                    library.create(
                        symbolText, parameterBytes.baseAddress, Int32(parameterBytes.count), 1, 0,
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

    func predict(_ inputs: [Tensor]) throws(DMSError) -> [Tensor] {
        let batchSize = inputs[0].shape[0]
        let handle = try handle(batchSize: batchSize)
        for (name, tensor) in zip(inputNames, inputs) {
            guard tensor.dataType == .float32 else {
                throw DMSError(.invalidInput, "input '\(name)' must be FP32 for MXNet, got \(tensor.dataType.rawValue)")
            }
            let status = tensor.withUnsafeBytes { raw in
                library.setInput(handle, name, raw.bindMemory(to: Float.self).baseAddress, UInt32(tensor.elementCount))
            }
            guard status == 0 else { throw engineError("setting input '\(name)'") }
        }
        guard library.forward(handle) == 0 else { throw engineError("running the model") }
        var outputs: [Tensor] = []
        for index in signature.outputs.indices {
            let shape = try outputShape(handle, index: index)
            var failed = false
            let tensor = Tensor(shape: shape) { buffer in
                failed = library.getOutput(handle, UInt32(index), buffer.baseAddress, UInt32(buffer.count)) != 0
            }
            guard !failed else { throw engineError("reading output \(index)") }
            outputs.append(tensor)
        }
        return outputs
    }

    private func handle(batchSize: Int) throws(DMSError) -> MXNetLibrary.PredictorHandle {
        if let handle = handles[batchSize] {
            if let position = reshapedUseOrder.firstIndex(of: batchSize) {
                reshapedUseOrder.remove(at: position)
                reshapedUseOrder.append(batchSize)
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
        if reshapedUseOrder.count >= Self.maxReshapedHandles {
            let evicted = reshapedUseOrder.removeFirst()
            if let handle = handles.removeValue(forKey: evicted) { _ = library.free(handle) }
        }
        handles[batchSize] = reshaped
        reshapedUseOrder.append(batchSize)
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
