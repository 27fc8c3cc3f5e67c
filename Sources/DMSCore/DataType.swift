/// The element type of a tensor. Names follow the KServe v2 protocol's datatype strings.
public enum DataType: String, Sendable, CaseIterable, Codable {
    case float32 = "FP32"
    case float16 = "FP16"
    case float64 = "FP64"
    case int8 = "INT8"
    case int16 = "INT16"
    case int32 = "INT32"
    case int64 = "INT64"
    case uint8 = "UINT8"
    case bool = "BOOL"

    /// A data type from its KServe name (`FP32`) or its NumPy name (`float32`), ignoring case.
    public init?(name: String) {
        let numpyNames: [String: DataType] = [
            "float32": .float32, "float16": .float16, "float64": .float64, "int8": .int8, "int16": .int16,
            "int32": .int32, "int64": .int64, "uint8": .uint8, "bool": .bool,
        ]
        if let type = DataType(rawValue: name.uppercased()) ?? numpyNames[name.lowercased()] {
            self = type
        } else {
            return nil
        }
    }

    /// Bytes one element takes in a tensor's storage.
    public var byteWidth: Int {
        switch self {
        case .int8, .uint8, .bool: 1
        case .float16, .int16: 2
        case .float32, .int32: 4
        case .float64, .int64: 8
        }
    }

    /// Whether elements are floating-point numbers (FP16, FP32, FP64).
    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .float32, .float64: true
        default: false
        }
    }
}
