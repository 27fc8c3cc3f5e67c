/// A request in tensors, as the Open Inference Protocol (KServe v2) carries it over REST and
/// gRPC: named inputs, each either a tensor with its elements or a list of byte strings (the
/// protocol's `BYTES` type: for a model with a service, encoded items such as images), and the
/// outputs wanted. The surfaces decode their wire formats into it; the runtime runs it.
public struct InferenceRequest: Sendable {
    /// What one input carries.
    public enum Content: Sendable, Equatable {
        /// Elements ready for the engine, in the tensor's type and shape.
        case tensor(Tensor)
        /// `BYTES` elements, row-major for `shape`: items for the model's service to turn into
        /// tensors (one encoded image per input, as `/predict` takes it).
        case bytes([[UInt8]], shape: [Int])
    }

    /// One named input.
    public struct Input: Sendable, Equatable {
        public var name: String
        public var content: Content

        public init(name: String, content: Content) {
            self.name = name
            self.content = content
        }
    }

    public var inputs: [Input]

    public init(inputs: [Input]) {
        self.inputs = inputs
    }
}
