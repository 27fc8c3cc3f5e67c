import DMSCore
import DMSVision

/// The default service for image classifiers (`mxnet_vision_service`): images in, the top five
/// classes with their probabilities out.
///
/// Response: `{"prediction": [[{"class": "<synset line>", "probability": p}, …]]}`, one inner list
/// per image in the batch. Probabilities, by default (`postprocess.softmax` "auto"): when the
/// network ends in a softmax the engine's outputs are reported as they are; otherwise a softmax
/// is applied first, so the numbers are always probabilities (the seed reported raw scores in
/// that case). When the engine cannot tell (ONNX), outputs that already form a distribution
/// (every value in [0, 1], summing to 1 within 1e-3) are taken as probabilities. The signature's
/// `postprocess` may force the softmax on or off, choose k, give the labels inline and name the
/// output of scores (see `OutputPostprocessing`). Without labels, classes are the output indices
/// as strings.
public struct VisionService: ModelService {
    public var signature: ModelSignature
    public var labels: [String]?
    public var outputActivation: PredictorDescription.OutputActivation
    public var preprocessor: ImagePreprocessor
    /// The position of the output of scores among the model's outputs.
    public var scoresIndex: Int

    /// `labels` are the archive's `synset.txt`, used unless the signature gives its own.
    public init(signature: ModelSignature, labels: [String]?, outputActivation: PredictorDescription.OutputActivation, preprocessor: ImagePreprocessor) throws(DMSError) {
        guard signature.inputType == .jpeg else {
            throw DMSError(.invalidModel, "the vision service needs input_type image/jpeg; this model's is \(signature.inputType.rawValue)")
        }
        let chosen = signature.postprocess.outputs ?? [signature.outputs[0].name]
        guard chosen.count == 1, let scoresIndex = signature.outputs.firstIndex(where: { $0.name == chosen[0] }) else {
            throw DMSError(.invalidModel, "signature.json: postprocess.outputs must name one output for the vision service (the scores to classify), got \(chosen)")
        }
        self.signature = signature
        self.labels = signature.postprocess.labels ?? labels
        self.outputActivation = outputActivation
        self.preprocessor = preprocessor
        self.scoresIndex = scoresIndex
    }

    public var responseForm: ServiceResponseForm { .classification(topK: signature.postprocess.topK) }

    public func prepare(_ request: PredictionRequest) throws(DMSError) -> PreparedInputs {
        try preprocessor.inputs(for: request, signature: signature)
    }

    /// Whether a row of outputs is reported as it is (`softmax` "auto": when it already is a
    /// probability distribution).
    static func isProbabilities(_ row: [Float], softmax: OutputPostprocessing.Softmax, activation: PredictorDescription.OutputActivation) -> Bool {
        switch softmax {
        case .always: return false
        case .never: return true
        case .automatic: break
        }
        switch activation {
        case .softmax: return true
        case .none: return false
        case .undetermined:
            return row.allSatisfy { $0 >= 0 && $0 <= 1 } && abs(row.reduce(0, +) - 1) <= 1e-3
        }
    }

    public func postprocess(_ outputs: [Tensor], for request: PredictionRequest) throws(DMSError) -> PredictionResponse {
        guard outputs.indices.contains(scoresIndex), case let scores = outputs[scoresIndex], scores.dataType == .float32, let batch = scores.shape.first, batch > 0 else {
            throw DMSError(.internalError, "the model returned no float32 scores to classify")
        }
        let values = scores.floats
        let classCount = values.count / batch
        var rows: [JSONValue] = []
        for row in 0..<batch {
            let slice = Array(values[(row * classCount)..<((row + 1) * classCount)])
            let probabilities = Self.isProbabilities(slice, softmax: signature.postprocess.softmax, activation: outputActivation) ? slice : Classification.softmax(slice)
            let top = Classification.topK(probabilities, k: signature.postprocess.topK).map { entry -> JSONValue in
                let label = labels.flatMap { $0.indices.contains(entry.index) ? $0[entry.index] : nil } ?? String(entry.index)
                return .object([("class", .string(label)), ("probability", .number(Double(entry.value)))])
            }
            rows.append(.array(top))
        }
        return .json(.object([("prediction", .array(rows))]))
    }
}
