import DMSCore
import DMSVision

/// The default service for image classifiers (`mxnet_vision_service`): images in, the top five
/// classes with their probabilities out.
///
/// Response: `{"prediction": [[{"class": "<synset line>", "probability": p}, …]]}`, one inner list
/// per image in the batch. Probabilities: when the network ends in a softmax the engine's outputs
/// are reported as they are; otherwise a softmax is applied first, so the numbers are always
/// probabilities (the seed reported raw scores in that case). When the engine cannot tell
/// (ONNX), outputs that already form a distribution (every value in [0, 1], summing to 1 within
/// 1e-3) are taken as probabilities. Without `synset.txt`, classes are
/// the output indices as strings.
public struct VisionService: ModelService {
    public var signature: ModelSignature
    public var labels: [String]?
    public var outputActivation: PredictorDescription.OutputActivation
    public var preprocessor: ImagePreprocessor
    public var topCount: Int

    public init(signature: ModelSignature, labels: [String]?, outputActivation: PredictorDescription.OutputActivation, preprocessor: ImagePreprocessor, topCount: Int = 5) throws(DMSError) {
        guard signature.inputType == .jpeg else {
            throw DMSError(.invalidModel, "the vision service needs input_type image/jpeg; this model's is \(signature.inputType.rawValue)")
        }
        self.signature = signature
        self.labels = labels
        self.outputActivation = outputActivation
        self.preprocessor = preprocessor
        self.topCount = topCount
    }

    public func prepare(_ request: PredictionRequest) throws(DMSError) -> PreparedInputs {
        try preprocessor.inputs(for: request, signature: signature)
    }

    /// Whether a row of outputs is already a probability distribution.
    static func isProbabilities(_ row: [Float], activation: PredictorDescription.OutputActivation) -> Bool {
        switch activation {
        case .softmax: return true
        case .none: return false
        case .undetermined:
            return row.allSatisfy { $0 >= 0 && $0 <= 1 } && abs(row.reduce(0, +) - 1) <= 1e-3
        }
    }

    public func postprocess(_ outputs: [Tensor], for request: PredictionRequest) throws(DMSError) -> PredictionResponse {
        guard let scores = outputs.first, scores.dataType == .float32, let batch = scores.shape.first, batch > 0 else {
            throw DMSError(.internalError, "the model returned no float32 scores to classify")
        }
        let values = scores.floats
        let classCount = values.count / batch
        var rows: [JSONValue] = []
        for row in 0..<batch {
            let slice = Array(values[(row * classCount)..<((row + 1) * classCount)])
            let probabilities = Self.isProbabilities(slice, activation: outputActivation) ? slice : Classification.softmax(slice)
            let top = Classification.topK(probabilities, k: topCount).map { entry -> JSONValue in
                let label = labels.flatMap { $0.indices.contains(entry.index) ? $0[entry.index] : nil } ?? String(entry.index)
                return .object([("class", .string(label)), ("probability", .number(Double(entry.value)))])
            }
            rows.append(.array(top))
        }
        return .json(.object([("prediction", .array(rows))]))
    }
}
