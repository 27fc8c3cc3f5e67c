import DMSCore

extension DataType {
    /// The ONNX element type of tensors of this type: `ONNXTensorElementDataType` in
    /// `onnxruntime_c_api.h`, the same numbers as ONNX's `TensorProto.DataType`.
    var onnxElementType: Int32 {
        switch self {
        case .float32: 1
        case .uint8: 2
        case .int8: 3
        case .int16: 5
        case .int32: 6
        case .int64: 7
        case .bool: 9
        case .float16: 10
        case .float64: 11
        }
    }

    /// The data type of an ONNX element type, or nil for the ones DMS has no data type for
    /// (strings, unsigned 16- to 64-bit integers, complex numbers, bfloat16, 8-bit floats, …).
    init?(onnxElementType: Int32) {
        guard let type = DataType.allCases.first(where: { $0.onnxElementType == onnxElementType }) else { return nil }
        self = type
    }

    /// A name for an ONNX element type in messages: the DMS name when there is one (`FP32`),
    /// otherwise ONNX's (`STRING`).
    static func onnxElementTypeName(_ elementType: Int32) -> String {
        if let type = DataType(onnxElementType: elementType) { return type.rawValue }
        let onnxNames: [Int32: String] = [
            0: "UNDEFINED", 4: "UINT16", 8: "STRING", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64", 15: "COMPLEX128", 16: "BFLOAT16",
        ]
        return onnxNames[elementType] ?? "ONNX element type \(elementType)"
    }
}
