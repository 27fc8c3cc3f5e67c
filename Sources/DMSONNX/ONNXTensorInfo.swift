import DMSCore

/// One input or output of an ONNX model, as ONNX Runtime reports it.
struct ONNXTensorInfo: Equatable {
    var name: String
    /// The ONNX element type (`ONNXTensorElementDataType`).
    var elementType: Int32
    /// The dimensions; -1 marks a dynamic one (a symbolic dimension such as `N`, or one the model
    /// leaves unknown). A rank of 0 is a scalar or a shape the model does not declare: ONNX
    /// Runtime reports both alike.
    var shape: [Int]
    /// The symbolic name of each dimension, empty where there is none.
    var dimensionNames: [String]

    /// Builds the description from what ONNX Runtime reports: dimensions that are symbolic,
    /// negative or 0 are dynamic.
    init(name: String, elementType: Int32, dimensions: [Int64], dimensionNames: [String]) {
        self.name = name
        self.elementType = elementType
        self.shape = zip(dimensions, dimensionNames).map { dimension, symbol in dimension > 0 && symbol.isEmpty ? Int(dimension) : -1 }
        self.dimensionNames = dimensionNames
    }

    /// The DMS data type of the elements, nil when DMS has none for them.
    var dataType: DataType? { DataType(onnxElementType: elementType) }

    /// The shape for messages, with dynamic dimensions by name (`[N, 3]`) or as `?`.
    var shapeDescription: String {
        let dimensions = zip(shape, dimensionNames).map { dimension, symbol in
            dimension > 0 ? String(dimension) : symbol.isEmpty ? "?" : symbol
        }
        return "[\(dimensions.joined(separator: ", "))]"
    }

    /// Whether `declared` (a signature's shape, where 0 or -1 is any size) can describe this
    /// tensor: the same rank, and the same size wherever both fix it. A rank-0 model shape may
    /// be undeclared, so it accepts any declared shape.
    func agrees(with declared: [Int]) -> Bool {
        guard !shape.isEmpty else { return true }
        return declared.count == shape.count
            && zip(declared, shape).allSatisfy { declared, actual in declared <= 0 || actual <= 0 || declared == actual }
    }

    /// Whether a concrete tensor shape fits: the same rank and the model's fixed sizes.
    func accepts(_ concrete: [Int]) -> Bool {
        guard !shape.isEmpty else { return true }
        return concrete.count == shape.count && zip(concrete, shape).allSatisfy { actual, fixed in fixed <= 0 || actual == fixed }
    }
}
