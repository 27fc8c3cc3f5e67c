import DMSCore
import Foundation

/// The generic service (`mxnet_model_service`, like the seed's base service): inputs are read by
/// the signature's `input_type` — images as the vision service does, JSON tensors as nested
/// arrays (`TensorJSON`) — and the outputs come back as they are, one entry per output tensor,
/// in the field names of the KServe v2 protocol:
/// `{"prediction": [{"name": …, "shape": […], "datatype": "FP32", "data": [flat values]}]}`.
public struct TensorOutputService: ModelService {
    public var signature: ModelSignature
    public var preprocessor: ImagePreprocessor
    public var jsonLimits: TensorJSON.Limits

    public init(signature: ModelSignature, preprocessor: ImagePreprocessor, jsonLimits: TensorJSON.Limits = TensorJSON.Limits()) {
        self.signature = signature
        self.preprocessor = preprocessor
        self.jsonLimits = jsonLimits
    }

    public func preprocess(_ request: PredictionRequest) throws(DMSError) -> [Tensor] {
        guard signature.inputType == .json else {
            return try preprocessor.tensors(for: request, signature: signature)
        }
        let parts = try request.partsInSignatureOrder(signature)
        var tensors: [Tensor] = []
        for (index, (part, spec)) in zip(parts, signature.inputs).enumerated() {
            let inputName = "input\(index) ('\(spec.name)')"
            let value: Any
            do {
                value = try JSONSerialization.jsonObject(with: Data(part.bytes), options: .fragmentsAllowed)
            } catch {
                throw DMSError(.invalidInput, "\(inputName): not valid JSON; expected a nested array shaped \(spec.shape)", cause: error)
            }
            tensors.append(try TensorJSON.decode(value, spec: spec, inputName: inputName, limits: jsonLimits))
        }
        return tensors
    }

    public func postprocess(_ outputs: [Tensor]) throws(DMSError) -> JSONValue {
        let entries = outputs.enumerated().map { index, tensor in
            TensorJSON.encode(tensor, name: signature.outputs.indices.contains(index) ? signature.outputs[index].name : "output\(index)")
        }
        return .object([("prediction", .array(entries))])
    }
}
