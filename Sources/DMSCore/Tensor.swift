/// A dense, row-major tensor: an element type, a shape and the raw little-endian bytes.
///
/// Engines and services exchange tensors through this type. The storage is plain bytes so that
/// every data type shares one representation; typed views are offered for the types a service
/// reads and writes.
public struct Tensor: Sendable, Equatable {
    public var dataType: DataType
    public var shape: [Int]
    public private(set) var bytes: [UInt8]

    /// Number of elements the shape describes.
    public var elementCount: Int { Tensor.elementCount(of: shape) }

    /// A tensor from its raw bytes; `bytes.count` must equal the shape's element count times the
    /// element width.
    public init(dataType: DataType, shape: [Int], bytes: [UInt8]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "tensor dimensions must be non-negative")
        precondition(bytes.count == Tensor.elementCount(of: shape) * dataType.byteWidth, "tensor byte count does not match its shape")
        self.dataType = dataType
        self.shape = shape
        self.bytes = bytes
    }

    /// A float32 tensor holding `values`.
    public init(shape: [Int], floats values: [Float]) {
        precondition(values.count == Tensor.elementCount(of: shape), "tensor value count does not match its shape")
        let bytes = values.withUnsafeBytes { [UInt8]($0) }
        self.init(dataType: .float32, shape: shape, bytes: bytes)
    }

    /// A float32 tensor of the given shape whose elements are written by `initializer` straight
    /// into the tensor's storage, without an intermediate array.
    public init(shape: [Int], initializingFloatsWith initializer: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        let count = Tensor.elementCount(of: shape)
        var bytes = [UInt8](repeating: 0, count: count * MemoryLayout<Float>.stride)
        try bytes.withUnsafeMutableBytes { raw in
            try initializer(raw.bindMemory(to: Float.self))
        }
        self.init(dataType: .float32, shape: shape, bytes: bytes)
    }

    /// A tensor of the given type and shape whose bytes are written by `initializer` straight
    /// into the tensor's storage (every byte must be written: the storage starts uninitialized).
    public init(dataType: DataType, shape: [Int], initializingBytesWith initializer: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let byteCount = Tensor.elementCount(of: shape) * dataType.byteWidth
        let bytes = try [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initializedCount in
            try initializer(UnsafeMutableRawBufferPointer(buffer))
            initializedCount = byteCount
        }
        self.init(dataType: dataType, shape: shape, bytes: bytes)
    }

    /// Rows `range` of the first dimension, as a tensor of their own.
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(!shape.isEmpty && range.lowerBound >= 0 && range.upperBound <= shape[0], "row range out of the tensor's first dimension")
        let rowBytes = shape[0] == 0 ? 0 : bytes.count / shape[0]
        var rowShape = shape
        rowShape[0] = range.count
        return Tensor(dataType: dataType, shape: rowShape, bytes: Array(bytes[(range.lowerBound * rowBytes)..<(range.upperBound * rowBytes)]))
    }

    /// The elements of a float32 tensor.
    public var floats: [Float] {
        precondition(dataType == .float32, "floats read from a \(dataType.rawValue) tensor")
        return bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// Calls `body` with the raw storage (for handing to an engine).
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try bytes.withUnsafeBytes(body)
    }

    /// The product of the dimensions (1 for a scalar shape `[]`), for shapes already known to be
    /// sane (a tensor's own, or one checked with `checkedElementCount`).
    public static func elementCount(of shape: [Int]) -> Int {
        shape.reduce(1, *)
    }

    /// The product of the dimensions, or nil when a dimension is negative or the product
    /// overflows `Int`: for shapes that come from outside (a signature, a request).
    public static func checkedElementCount(of shape: [Int]) -> Int? {
        var product = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            product = next
        }
        return product
    }
}
