import DMSCore

/// The generic service (`mxnet_model_service`, like the seed's base service): inputs are
/// preprocessed by their `input_type` (images as the vision service does), and the outputs come
/// back as they are, one entry per output tensor, in the field names of the KServe v2 protocol:
/// `{"prediction": [{"name": …, "shape": […], "datatype": "FP32", "data": [flat values]}]}`.
public struct TensorOutputService: ModelService {
    public var signature: ModelSignature
    public var preprocessor: ImagePreprocessor

    public init(signature: ModelSignature, preprocessor: ImagePreprocessor) throws(DMSError) {
        guard signature.inputType == .jpeg else {
            throw DMSError(.unsupported, "application/json inputs are not supported yet; only image/jpeg inputs are")
        }
        self.signature = signature
        self.preprocessor = preprocessor
    }

    public func preprocess(_ request: PredictionRequest) throws(DMSError) -> [Tensor] {
        try preprocessor.tensors(for: request, signature: signature)
    }

    public func postprocess(_ outputs: [Tensor]) throws(DMSError) -> JSONValue {
        let entries = outputs.enumerated().map { index, tensor -> JSONValue in
            let name = signature.outputs.indices.contains(index) ? signature.outputs[index].name : "output\(index)"
            return .object([
                ("name", .string(name)),
                ("shape", .array(tensor.shape.map { .number(Double($0)) })),
                ("datatype", .string(tensor.dataType.rawValue)),
                ("data", .array(tensor.floats.map { .number(Double($0)) })),
            ])
        }
        return .object([("prediction", .array(entries))])
    }
}
