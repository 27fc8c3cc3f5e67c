/// One request's model inputs, checked and described, written into engine memory only when a
/// worker assembles the batch they run in.
///
/// A service describes each input (element type and shape, this request's batch first) and how
/// to produce its bytes. The runtime lays the requests of one engine call side by side in one
/// tensor per input and asks each request to write its rows into its own slot, so an image is
/// decoded, resized and laid out straight into the memory the engine reads, once, and only by a
/// worker: queued requests hold their uploaded bytes, never decoded pixels.
public struct PreparedInputs: Sendable {
    /// Writes one input's elements into the slot given (exactly `byteCount` bytes).
    public typealias Writer = @Sendable (UnsafeMutableRawBufferPointer) throws(DMSError) -> Void

    /// One input of the request.
    public struct Input: Sendable {
        public let dataType: DataType
        /// This request's shape of the input, batch first.
        public let shape: [Int]
        private let writer: Writer

        /// An input whose bytes `writer` produces on demand.
        public init(dataType: DataType, shape: [Int], writer: @escaping Writer) {
            self.dataType = dataType
            self.shape = shape
            self.writer = writer
        }

        /// An input whose elements already exist (a tensor parsed from JSON); they are copied into
        /// the slot.
        public init(_ tensor: Tensor) {
            self.init(dataType: tensor.dataType, shape: tensor.shape) { slot throws(DMSError) in
                tensor.withUnsafeBytes { slot.copyMemory(from: $0) }
            }
        }

        /// Bytes this input occupies.
        public var byteCount: Int { Tensor.elementCount(of: shape) * dataType.byteWidth }

        /// Writes the elements into `slot`, which holds exactly `byteCount` bytes.
        public func write(into slot: UnsafeMutableRawBufferPointer) throws(DMSError) {
            precondition(slot.count == byteCount, "an input's slot must hold exactly its bytes")
            try writer(slot)
        }
    }

    /// One entry per signature input, in signature order.
    public var inputs: [Input]

    public init(_ inputs: [Input]) {
        self.inputs = inputs
    }

    /// Inputs whose elements already exist.
    public init(tensors: [Tensor]) {
        self.init(tensors.map(Input.init))
    }

    /// Rows this request adds to a batch: its inputs' batch dimension (1 for a scalar input).
    public var rowCount: Int { inputs.first?.shape.first ?? 1 }

    /// One input's layout apart from the batch dimension.
    public struct RowLayout: Hashable, Sendable {
        public var dataType: DataType
        /// The shape after the batch dimension.
        public var rowShape: [Int]

        public init(dataType: DataType, rowShape: [Int]) {
            self.dataType = dataType
            self.rowShape = rowShape
        }
    }

    /// What must agree for two requests to share an engine call: every input's element type
    /// and its shape beyond the batch dimension.
    public var rowLayouts: [RowLayout] {
        inputs.map { RowLayout(dataType: $0.dataType, rowShape: Array($0.shape.dropFirst())) }
    }
}
