/// How a model's outputs become the response: the `postprocess` block of `signature.json`.
///
/// ```json
/// "postprocess": {"softmax": "auto", "top_k": 3, "labels": ["cat", "dog", "bird"], "outputs": ["scores"]}
/// ```
///
/// `softmax`, `top_k` and `labels` shape the vision service's top-k classification; `outputs`
/// names the outputs to report: for classification the one output of scores (the first output
/// by default), for the tensor service those returned, in that order (all by default). Every
/// field is optional; without a block the answers are the seed's: the top 5 classes of the first
/// output with the automatic softmax rule and the labels of `synset.txt`.
public struct OutputPostprocessing: Sendable, Equatable {
    /// Whether the scores go through a softmax before they are reported as probabilities.
    public enum Softmax: Sendable, Equatable {
        /// Apply it unless the network ends in one (or, when the engine cannot tell, unless the
        /// scores already form a distribution).
        case automatic
        case always
        case never
    }

    public var softmax: Softmax
    public var topK: Int
    /// Class labels given in the signature, in place of `synset.txt`.
    public var labels: [String]?
    /// The names of the outputs to report; nil for the service's default.
    public var outputs: [String]?

    public init(softmax: Softmax = .automatic, topK: Int = 5, labels: [String]? = nil, outputs: [String]? = nil) {
        self.softmax = softmax
        self.topK = topK
        self.labels = labels
        self.outputs = outputs
    }

    /// Whether the block sets anything that only classification uses.
    public var configuresClassification: Bool {
        softmax != .automatic || topK != 5 || labels != nil
    }
}

extension OutputPostprocessing {
    static let fields = ["softmax", "top_k", "labels", "outputs"]

    /// Reads the `postprocess` block (nil: the defaults), checking output names against the
    /// signature's `outputs`.
    static func parse(_ value: Any?, outputNames: [String], path: String) throws(DMSError) -> OutputPostprocessing {
        guard let value else { return OutputPostprocessing() }
        let block = try SignatureObject(value, path: path)
        try block.refuseUnknownMembers(fields)
        var softmax = Softmax.automatic
        if let raw = block.raw("softmax") {
            switch raw {
            case let text as String where text == "auto": softmax = .automatic
            case _ where JSONNumber.isBoolean(raw): softmax = (raw as? Bool) == true ? .always : .never
            default:
                throw DMSError(.invalidModel, "\(path).softmax must be true, false or \"auto\", got \(SignatureObject.describe(raw))")
            }
        }
        let outputs = try block.strings("outputs")
        if let outputs {
            for name in outputs where !outputNames.contains(name) {
                throw DMSError(.invalidModel, "\(path).outputs names '\(name)', which is not among the signature's outputs (\(outputNames.joined(separator: ", ")))")
            }
            guard Set(outputs).count == outputs.count else {
                throw DMSError(.invalidModel, "\(path).outputs lists an output twice")
            }
        }
        return OutputPostprocessing(softmax: softmax, topK: try block.positiveInteger("top_k") ?? 5, labels: try block.strings("labels"), outputs: outputs)
    }
}
