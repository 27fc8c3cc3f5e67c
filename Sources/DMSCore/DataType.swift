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

    /// Bytes one element takes in a tensor's storage.
    public var byteWidth: Int {
        switch self {
        case .int8, .uint8, .bool: 1
        case .float16, .int16: 2
        case .float32, .int32: 4
        case .float64, .int64: 8
        }
    }
}
