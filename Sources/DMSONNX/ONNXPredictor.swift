import DMSCore

/// A loaded ONNX model, fed and read in its signature's order.
///
/// Inputs go to the model by name, so the signature may list them in any order; the outputs come
/// back in the signature's order and may be a subset of the model's. Any batch size the model
/// allows is run as it comes: ONNX Runtime takes dynamic dimensions per call.
///
/// Not thread-safe: the runtime's worker makes one call at a time, which is this type's
/// contract.
final class ONNXPredictor: ModelPredictor, @unchecked Sendable {
    let description: PredictorDescription
    private let session: ONNXSession
    /// The model's inputs, in the signature's order.
    private let inputs: [ONNXTensorInfo]
    private let inputNames: [String]
    private let outputNames: [String]

    /// A predictor for `session`, whose inputs and outputs have been checked against
    /// `signature` (see `ONNXEngine.load`).
    ///
    /// `outputActivation` is `.undetermined`: whether an output comes from a Softmax node is in
    /// the graph, which the C API does not show, so services judge by the values.
    init(session: ONNXSession, signature: ModelSignature) {
        self.session = session
        let inputs = signature.inputs.compactMap { spec in session.inputs.first { $0.name == spec.name } }
        let outputNames = signature.outputs.map(\.name)
        self.inputs = inputs
        self.inputNames = inputs.map(\.name)
        self.outputNames = outputNames
        self.description = PredictorDescription(outputNames: outputNames, outputActivation: .undetermined)
    }

    func predict(_ tensors: [Tensor]) throws(DMSError) -> [Tensor] {
        guard tensors.count == inputs.count else {
            throw DMSError(.invalidInput, "the model takes \(inputs.count) input(s), got \(tensors.count)")
        }
        for (tensor, input) in zip(tensors, inputs) {
            guard tensor.dataType.onnxElementType == input.elementType else {
                throw DMSError(
                    .invalidInput,
                    "input '\(input.name)' must be \(DataType.onnxElementTypeName(input.elementType)), got \(tensor.dataType.rawValue)")
            }
            guard input.accepts(tensor.shape) else {
                throw DMSError(.invalidInput, "input '\(input.name)' has shape \(tensor.shape); the model takes \(input.shapeDescription)")
            }
        }
        return try session.run(tensors, inputNames: inputNames, outputNames: outputNames)
    }
}
