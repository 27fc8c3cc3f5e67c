import Foundation

/// What a model takes and returns, as declared by an archive's `signature.json`.
///
/// ```json
/// {"inputs": [{"data_name": "data", "data_shape": [0, 3, 224, 224]}], "input_type": "image/jpeg",
///  "outputs": [{"data_name": "softmax", "data_shape": [0, 1000]}], "output_type": "application/json"}
/// ```
/// The first dimension is the batch: 0 or -1 mean "any batch size", a positive number is taken as
/// is. Image inputs are NCHW (or NHWC) with 1 or 3 channels and a known height and width; each
/// may say how its images are prepared (`preprocess`, see `ImagePreprocessing`), and the
/// signature how outputs are reported (`postprocess`, see `OutputPostprocessing`).
public struct ModelSignature: Sendable, Equatable {
    /// The content types the seed defined for inputs and outputs.
    public enum ContentType: String, Sendable, CaseIterable {
        case jpeg = "image/jpeg"
        case json = "application/json"
    }

    /// One named tensor of the signature.
    public struct TensorSpec: Sendable, Equatable {
        public var name: String
        /// The declared shape; batch first. 0 or -1 mark a dimension of any size.
        public var shape: [Int]
        /// The element type (`data_type` in `signature.json`, FP32 when absent as in the seed).
        public var dataType: DataType
        /// How images become this input's tensor: set for every input of an `image/jpeg`
        /// signature (the seed's rule unless `signature.json` says otherwise), nil otherwise.
        public var preprocess: ImagePreprocessing?

        public init(name: String, shape: [Int], dataType: DataType = .float32, preprocess: ImagePreprocessing? = nil) {
            self.name = name
            self.shape = shape
            self.dataType = dataType
            self.preprocess = preprocess
        }

        /// The elements the declared shape fixes, with every dynamic dimension counted as 1; nil
        /// when the product overflows `Int`.
        public var declaredElementCount: Int? {
            Tensor.checkedElementCount(of: shape.map { $0 <= 0 ? 1 : $0 })
        }

        /// Whether the batch (first) dimension accepts any size.
        public var hasDynamicBatch: Bool { shape.first.map { $0 <= 0 } ?? false }

        /// The shape with a dynamic batch replaced by `batchSize`; other dimensions as declared.
        public func shape(batchSize: Int) -> [Int] {
            guard !shape.isEmpty else { return shape }
            var result = shape
            if hasDynamicBatch { result[0] = batchSize }
            return result
        }
    }

    /// Most elements one input or output may declare (`TensorSpec.declaredElementCount`): 100
    /// million, 400 MB as FP32. Every request allocates its inputs' declared sizes (an image is
    /// resized to them), so a signature must not declare what no machine could hold; the bound
    /// also keeps every size product of the request path far from overflowing.
    public static let maxDeclaredElements = 100_000_000

    public var inputs: [TensorSpec]
    public var inputType: ContentType
    public var outputs: [TensorSpec]
    public var outputType: ContentType
    public var postprocess: OutputPostprocessing

    public init(
        inputs: [TensorSpec], inputType: ContentType, outputs: [TensorSpec], outputType: ContentType, postprocess: OutputPostprocessing = .init()
    ) throws(DMSError) {
        self.inputs = inputs
        self.inputType = inputType
        self.outputs = outputs
        self.outputType = outputType
        self.postprocess = postprocess
        try validate(fileName: "signature")
        try resolveImageInputs(rawPreprocess: inputs.map { _ -> Any? in nil }, fileName: "signature")
    }

    /// Parses and validates a `signature.json`. Every violation is an `.invalidModel` error naming
    /// `fileName` and the offending field.
    public init(json data: Data, fileName: String = "signature.json") throws(DMSError) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw DMSError(.invalidModel, "\(fileName): not valid JSON (\(error.localizedDescription))")
        }
        guard let root = object as? [String: Any] else {
            throw DMSError(.invalidModel, "\(fileName): the top level must be a JSON object")
        }
        let (inputs, rawPreprocess) = try Self.tensorSpecs(root["inputs"], field: "inputs", fileName: fileName)
        let (outputs, outputPreprocess) = try Self.tensorSpecs(root["outputs"], field: "outputs", fileName: fileName)
        self.inputs = inputs
        self.outputs = outputs
        inputType = try Self.contentType(root["input_type"], field: "input_type", fileName: fileName)
        outputType = try Self.contentType(root["output_type"], field: "output_type", fileName: fileName)
        if let index = outputPreprocess.firstIndex(where: { $0 != nil }) {
            throw DMSError(.invalidModel, "\(fileName): outputs[\(index)].preprocess: preprocess applies to inputs; outputs are shaped by the top-level \"postprocess\"")
        }
        if inputType != .jpeg, let index = rawPreprocess.firstIndex(where: { $0 != nil }) {
            throw DMSError(.invalidModel, "\(fileName): inputs[\(index)].preprocess applies to image inputs, and this signature's input_type is \(inputType.rawValue)")
        }
        postprocess = try OutputPostprocessing.parse(root["postprocess"], outputNames: outputs.map(\.name), path: "\(fileName): postprocess")
        try validate(fileName: fileName)
        try resolveImageInputs(rawPreprocess: rawPreprocess, fileName: fileName)
    }

    /// Gives every input of an image signature its preprocessing, read from its `preprocess`
    /// block (`rawPreprocess`, one per input) or, when it has none, the seed's; checks each against
    /// the input's shape.
    private mutating func resolveImageInputs(rawPreprocess: [Any?], fileName: String) throws(DMSError) {
        guard inputType == .jpeg else { return }
        for index in inputs.indices {
            let inputPath = "\(fileName): inputs[\(index)]"
            guard inputs[index].dataType == .float32 else {
                throw DMSError(.invalidModel, "\(inputPath).data_type must be FP32 for image/jpeg inputs (images become float values), got \(inputs[index].dataType.rawValue)")
            }
            if inputs[index].preprocess != nil, rawPreprocess[index] == nil { continue }
            inputs[index].preprocess = try ImagePreprocessing.parse(rawPreprocess[index], shape: inputs[index].shape, inputPath: inputPath)
        }
    }

    /// Whether requests can share an engine call: every input and output leaves its batch
    /// (first) dimension open.
    public var batchesAcrossRequests: Bool {
        (inputs + outputs).allSatisfy(\.hasDynamicBatch)
    }

    /// The position of an input in the signature, given either its positional name (`input0`,
    /// `input1`, … as the seed README documents) or its `data_name`.
    public func inputIndex(forFieldName field: String) -> Int? {
        if let index = inputs.firstIndex(where: { $0.name == field }) { return index }
        guard field.hasPrefix("input"), let index = Int(field.dropFirst(5)), String(index) == field.dropFirst(5),
            inputs.indices.contains(index)
        else { return nil }
        return index
    }

    private func validate(fileName: String) throws(DMSError) {
        for (kind, specs) in [("inputs", inputs), ("outputs", outputs)] {
            var seen: Set<String> = []
            for (index, spec) in specs.enumerated() {
                let field = "\(fileName): \(kind)[\(index)]"
                guard seen.insert(spec.name).inserted else {
                    throw DMSError(.invalidModel, "\(field).data_name '\(spec.name)' appears twice")
                }
                if let bad = spec.shape.first(where: { $0 < -1 }) {
                    throw DMSError(.invalidModel, "\(field).data_shape has a negative dimension \(bad)")
                }
                guard let elements = spec.declaredElementCount, elements <= Self.maxDeclaredElements else {
                    throw DMSError(
                        .invalidModel,
                        "\(field).data_shape \(spec.shape) declares more than \(Self.maxDeclaredElements) elements per request (dynamic dimensions counted as 1), the server's limit")
                }
            }
        }
    }

    /// The specs of `inputs` or `outputs`, with each entry's `preprocess` block as parsed (nil
    /// when absent), read once the signature's types are known.
    private static func tensorSpecs(_ value: Any?, field: String, fileName: String) throws(DMSError) -> ([TensorSpec], [Any?]) {
        guard let list = value as? [Any] else {
            throw DMSError(.invalidModel, "\(fileName): '\(field)' must be a list of {data_name, data_shape} objects")
        }
        guard !list.isEmpty else {
            throw DMSError(.invalidModel, "\(fileName): '\(field)' must not be empty")
        }
        var specs: [TensorSpec] = []
        var preprocess: [Any?] = []
        for (index, item) in list.enumerated() {
            let path = "\(fileName): \(field)[\(index)]"
            guard let entry = item as? [String: Any] else {
                throw DMSError(.invalidModel, "\(path) must be an object with data_name and data_shape")
            }
            guard let name = entry["data_name"] as? String, !name.isEmpty else {
                throw DMSError(.invalidModel, "\(path).data_name must be a non-empty string")
            }
            guard let rawShape = entry["data_shape"] as? [Any], !rawShape.isEmpty else {
                throw DMSError(.invalidModel, "\(path).data_shape must be a non-empty list of integers")
            }
            var shape: [Int] = []
            for dimension in rawShape {
                guard let number = Self.integer(dimension) else {
                    throw DMSError(.invalidModel, "\(path).data_shape must contain integers only, got \(rawShape)")
                }
                shape.append(number)
            }
            var dataType = DataType.float32
            if let rawType = entry["data_type"] {
                guard let text = rawType as? String, let parsed = DataType(name: text) else {
                    throw DMSError(
                        .invalidModel,
                        "\(path).data_type must be one of \(DataType.allCases.map(\.rawValue).joined(separator: ", ")), got \(rawType)")
                }
                dataType = parsed
            }
            specs.append(TensorSpec(name: name, shape: shape, dataType: dataType))
            preprocess.append(entry["preprocess"])
        }
        return (specs, preprocess)
    }

    /// The value as an integer when JSON gave an integer (not a boolean, not a fraction, not
    /// beyond `Int`'s range).
    private static func integer(_ value: Any) -> Int? {
        guard case .exact(let integer) = JSONNumber.integer(value) else { return nil }
        return Int(exactly: integer)
    }

    private static func contentType(_ value: Any?, field: String, fileName: String) throws(DMSError) -> ContentType {
        let allowed = ContentType.allCases.map(\.rawValue).joined(separator: ", ")
        guard let text = value as? String else {
            throw DMSError(.invalidModel, "\(fileName): '\(field)' must be one of \(allowed)")
        }
        guard let type = ContentType(rawValue: text) else {
            throw DMSError(.invalidModel, "\(fileName): '\(field)' is '\(text)'; supported types are \(allowed)")
        }
        return type
    }
}
