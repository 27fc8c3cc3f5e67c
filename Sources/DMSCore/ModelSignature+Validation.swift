extension ModelSignature {
    /// Checks tensors about to go to an engine against the signature: one per input, of the
    /// declared data type, the declared rank, every declared dimension except dynamic ones (0 or
    /// -1), and at most `maxDeclaredElements` elements (overflow-checked, so a shape whose size
    /// does not fit `Int` is refused rather than trapping later). Engines can abort the whole
    /// process on a wrong shape, so nothing reaches one unchecked.
    public func validate(inputs prepared: PreparedInputs) throws(DMSError) {
        let tensors = prepared.inputs
        guard tensors.count == inputs.count else {
            throw DMSError(.invalidInput, "the model takes \(inputs.count) input(s), got \(tensors.count)")
        }
        let batchSizes = Set(zip(tensors, inputs).compactMap { tensor, spec in spec.hasDynamicBatch ? tensor.shape.first : nil })
        guard batchSizes.count <= 1 else {
            throw DMSError(.invalidInput, "the inputs have different batch sizes \(batchSizes.sorted()); they must share one")
        }
        for (index, (tensor, spec)) in zip(tensors, inputs).enumerated() {
            guard tensor.dataType == spec.dataType else {
                throw DMSError(.invalidInput, "input\(index) ('\(spec.name)') is \(tensor.dataType.rawValue); the model expects \(spec.dataType.rawValue)")
            }
            let matches = tensor.shape.count == spec.shape.count
                && zip(tensor.shape, spec.shape).allSatisfy { actual, declared in declared <= 0 ? actual > 0 : actual == declared }
            guard matches else {
                throw DMSError(.invalidInput, "input\(index) ('\(spec.name)') has shape \(tensor.shape); the model expects \(spec.shape) (0 or -1: any size)")
            }
            guard let elements = Tensor.checkedElementCount(of: tensor.shape), elements <= Self.maxDeclaredElements else {
                throw DMSError(
                    .payloadTooLarge,
                    "input\(index) ('\(spec.name)') has shape \(tensor.shape), more than the server's limit of \(Self.maxDeclaredElements) elements per input")
            }
        }
    }
}
