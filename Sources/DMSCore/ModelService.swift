/// Turns requests into input tensors and output tensors into responses, for one model.
///
/// Mirrors the seed's `_preprocess` / `_postprocess`; the runtime does the `_inference` step in
/// between on the model's worker, where the prepared inputs of several requests may share one
/// engine call (`InputBatch`); `postprocess` gets this request's rows of the outputs.
///
/// Both steps are async so a service may wait on work outside the server (a Python worker
/// process) without holding a thread; a service written as plain synchronous methods satisfies
/// the protocol too.
public protocol ModelService: Sendable {
    /// The inputs to feed the model, one per signature input in signature order, with shapes
    /// that match the signature (batch size 1 for a single image). Runs on the request's task:
    /// it should check and describe the inputs cheaply and leave heavy work (decoding an image)
    /// to the input's writer, which runs on the model's worker, or move it off Swift's
    /// cooperative pool (`BlockingWork` in DMSRuntime).
    func prepare(_ request: PredictionRequest) async throws(DMSError) -> PreparedInputs

    /// The response for the model's outputs; `request` tells what the client accepts.
    func postprocess(_ outputs: [Tensor], for request: PredictionRequest) async throws(DMSError) -> PredictionResponse

    /// Counters of the service's own, added to the model's `GET /statistics` entry (a Python
    /// service's worker processes and their restarts); none by default.
    var statistics: [(key: String, value: JSONValue)] { get }

    /// The whole answer to a request, for a service that runs the model itself (a Python
    /// service that overrides the seed's `_inference`): the engine then does not run it. Nil,
    /// the default, for services whose model runs in the engine.
    func answerWithoutEngine(_ request: PredictionRequest) async throws(DMSError) -> PredictionResponse?

    /// Whether `answerWithoutEngine` answers requests (the model then has no tensors to offer
    /// the Open Inference Protocol); false by default.
    var runsModelItself: Bool { get }

    /// What the service's successful answers look like, for the API description
    /// (`GET /openapi.json`); any JSON document by default.
    var responseForm: ServiceResponseForm { get }
}

extension ModelService {
    public var statistics: [(key: String, value: JSONValue)] { [] }

    public var responseForm: ServiceResponseForm { .anyJSON }

    public func answerWithoutEngine(_ request: PredictionRequest) async throws(DMSError) -> PredictionResponse? { nil }

    public var runsModelItself: Bool { false }
}

/// The shape of a service's successful answers, as the API description documents them.
public enum ServiceResponseForm: Sendable {
    /// `{"prediction": [[{"class": "…", "probability": p}, …], …]}`: per batch item, at most
    /// `topK` classes, most probable first.
    case classification(topK: Int)
    /// `{"prediction": [{"name": …, "shape": […], "datatype": …, "data": [flat values]}, …]}`:
    /// one entry per output of `outputs`, in that order.
    case tensors(outputs: [ModelSignature.TensorSpec])
    /// `{"prediction": [{"name": …, "shape": […], "content_type": "image/jpeg", "data":
    /// ["<base64 JPEG>", …]}, …]}` per output of `outputs`, or one image's JPEG bytes for a
    /// client that accepts `image/jpeg`.
    case images(outputs: [ModelSignature.TensorSpec])
    /// Any JSON document (a custom service decides).
    case anyJSON
}

/// What a service answers: a JSON document, or raw bytes of a media type (an image output sent
/// as `image/jpeg` to a client that asked for it).
public enum PredictionResponse: Sendable, Equatable {
    case json(JSONValue)
    case bytes([UInt8], contentType: String)
}

/// One prediction request, as its named parts (multipart fields or their equivalents).
public struct PredictionRequest: Sendable {
    /// One named piece of the request body.
    public struct Part: Sendable {
        public var name: String
        public var bytes: [UInt8]
        /// The part's declared content type, if any.
        public var contentType: String?
        /// Whether the client sent the part as a file upload (`filename=` in multipart) rather
        /// than as a text field.
        public var isFile: Bool

        public init(name: String, bytes: [UInt8], contentType: String? = nil, isFile: Bool = true) {
            self.name = name
            self.bytes = bytes
            self.contentType = contentType
            self.isFile = isFile
        }
    }

    public var parts: [Part]
    /// The media types the client accepts for the response (its `Accept` header), in the order
    /// written, parameters such as `q` dropped; empty when it did not say.
    public var acceptedTypes: [String]

    /// The bytes of all parts together: how much work reading the request takes.
    public var byteCount: Int { parts.reduce(0) { $0 + $1.bytes.count } }

    public init(parts: [Part], acceptedTypes: [String] = []) {
        self.parts = parts
        self.acceptedTypes = acceptedTypes
    }

    /// Whether the client asked for `mediaType` explicitly (not through a wildcard).
    public func accepts(_ mediaType: String) -> Bool {
        acceptedTypes.contains { $0.lowercased() == mediaType.lowercased() }
    }

    /// The request's parts in signature order: each input found by its positional name
    /// (`input0`, `input1`, …) or its `data_name`. Unknown, duplicate or missing parts are
    /// `.invalidInput` errors that name what was expected.
    public func partsInSignatureOrder(_ signature: ModelSignature) throws(DMSError) -> [Part] {
        let expected = signature.inputs.enumerated().map { "input\($0.offset) (or '\($0.element.name)')" }.joined(separator: ", ")
        switch signature.inSignatureOrder(parts, name: \.name) {
        case .success(let ordered):
            return ordered
        case .failure(.unknown(let name)):
            throw DMSError(.invalidInput, "unexpected field '\(name)'; this model takes \(expected)")
        case .failure(.repeated(let index)):
            throw DMSError(.invalidInput, "input\(index) ('\(signature.inputs[index].name)') was sent more than once")
        case .failure(.missing(let index)):
            throw DMSError(.invalidInput, "missing input\(index) ('\(signature.inputs[index].name)'); this model takes \(expected)")
        }
    }
}
