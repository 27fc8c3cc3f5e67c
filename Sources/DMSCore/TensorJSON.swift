import Foundation

/// Tensors as JSON: nested arrays in, KServe v2-style objects out.
///
/// Input: a tensor is a nested JSON array whose nesting gives its shape (`[[1, 2], [3, 4]]` is
/// `[2, 2]`); an array one level shallower than the signature's rank is a single instance and gets
/// a batch dimension of 1. Arrays must be rectangular, values must be numbers (booleans for BOOL,
/// which also takes 0 and 1), integers for integer types and within the type's range.
/// `"NaN"`, `"Infinity"` and `"-Infinity"` are accepted for float types.
///
/// Output: `{"name": …, "shape": […], "datatype": "FP32", "data": [flat values]}`. JSON has no
/// NaN or infinities, so float outputs write them as the strings `"NaN"`, `"Infinity"` and
/// `"-Infinity"` (what many JSON libraries read back as those values).
public enum TensorJSON {
    /// Bounds on what one JSON tensor may hold, checked while reading it.
    public struct Limits: Sendable {
        /// Deepest nesting of arrays.
        public var maxDepth: Int
        /// Most elements in one tensor.
        public var maxElements: Int
        /// Most dimensions in one tensor's shape (the Open Inference Protocol's shapes).
        public var maxDimensions: Int

        public init(maxDepth: Int = 32, maxElements: Int = 10_000_000, maxDimensions: Int = 64) {
            self.maxDepth = maxDepth
            self.maxElements = maxElements
            self.maxDimensions = maxDimensions
        }
    }

    /// Reads a parsed JSON value (from `JSONSerialization`) as the tensor `spec` describes.
    /// Errors are `.invalidInput` and name `inputName` and the expected shape.
    public static func decode(_ value: Any, spec: ModelSignature.TensorSpec, inputName: String, limits: Limits = Limits()) throws(DMSError) -> Tensor {
        let expected = "expected \(spec.dataType.rawValue) values shaped \(spec.shape) (0 or -1: any size)"
        var shape: [Int] = []
        var probe = value
        while let array = probe as? [Any] {
            shape.append(array.count)
            guard shape.count <= limits.maxDepth else {
                throw DMSError(.invalidInput, "\(inputName): nested deeper than \(limits.maxDepth) levels")
            }
            guard let first = array.first else { break }
            probe = first
        }
        guard !shape.isEmpty else {
            throw DMSError(.invalidInput, "\(inputName): not a JSON array; \(expected)")
        }
        // Counted while flattening rather than from the first element's path, so a ragged array
        // is reported as ragged and the limit holds however the nesting lies.
        var scalars: [Any] = []
        try flatten(value, shape: shape, depth: 0, into: &scalars, limit: limits.maxElements, inputName: inputName, expected: expected)
        if shape.count == spec.shape.count - 1 {
            shape.insert(1, at: 0)
        }
        guard shape.count == spec.shape.count else {
            throw DMSError(.invalidInput, "\(inputName): got \(shape.count) dimensions \(shape); \(expected)")
        }
        guard zip(shape, spec.shape).allSatisfy({ actual, declared in declared <= 0 ? actual > 0 : actual == declared }) else {
            throw DMSError(.invalidInput, "\(inputName): got shape \(shape); \(expected)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(scalars.count * spec.dataType.byteWidth)
        for (index, scalar) in scalars.enumerated() {
            try append(scalar, as: spec.dataType, to: &bytes, where: "\(inputName)[\(index)]", expected: expected)
        }
        return Tensor(dataType: spec.dataType, shape: shape, bytes: bytes)
    }

    /// Reads the elements of a tensor whose type and shape are given apart from them (the Open
    /// Inference Protocol's `data`): a flat JSON array in row-major order, or arrays nested any
    /// way, holding exactly the shape's element count. Errors are `.invalidInput` naming
    /// `inputName`.
    public static func decode(
        elements value: Any, dataType: DataType, shape: [Int], inputName: String, limits: Limits = Limits()
    ) throws(DMSError) -> Tensor {
        guard let count = Tensor.checkedElementCount(of: shape), count <= limits.maxElements else {
            throw DMSError(.payloadTooLarge, "\(inputName): shape \(shape) holds more elements than the limit of \(limits.maxElements)")
        }
        let expected = "expected \(count) \(dataType.rawValue) values for shape \(shape)"
        guard value is [Any] else { throw DMSError(.invalidInput, "\(inputName): 'data' is not a JSON array; \(expected)") }
        // Not reserved for `count` up front: a small body may claim a huge shape.
        var scalars: [Any] = []
        func collect(_ element: Any, depth: Int) throws(DMSError) {
            guard let array = element as? [Any] else {
                guard scalars.count < count else { throw DMSError(.invalidInput, "\(inputName): more values than the shape holds; \(expected)") }
                scalars.append(element)
                return
            }
            guard depth < limits.maxDepth else { throw DMSError(.invalidInput, "\(inputName): nested deeper than \(limits.maxDepth) levels") }
            for member in array { try collect(member, depth: depth + 1) }
        }
        try collect(value, depth: 0)
        guard scalars.count == count else {
            throw DMSError(.invalidInput, "\(inputName): got \(scalars.count) values; \(expected)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count * dataType.byteWidth)
        for (index, scalar) in scalars.enumerated() {
            try append(scalar, as: dataType, to: &bytes, where: "\(inputName)[\(index)]", expected: expected)
        }
        return Tensor(dataType: dataType, shape: shape, bytes: bytes)
    }

    private static func flatten(
        _ value: Any, shape: [Int], depth: Int, into scalars: inout [Any], limit: Int, inputName: String, expected: String
    ) throws(DMSError) {
        if depth == shape.count {
            guard !(value is [Any]) else {
                throw DMSError(.invalidInput, "\(inputName): ragged array (deeper nesting than its first element); \(expected)")
            }
            guard scalars.count < limit else {
                throw DMSError(.payloadTooLarge, "\(inputName): more elements than the limit of \(limit)")
            }
            scalars.append(value)
            return
        }
        guard let array = value as? [Any], array.count == shape[depth] else {
            throw DMSError(.invalidInput, "\(inputName): ragged array (dimension \(depth) should have \(shape[depth]) entries everywhere); \(expected)")
        }
        for element in array {
            try flatten(element, shape: shape, depth: depth + 1, into: &scalars, limit: limit, inputName: inputName, expected: expected)
        }
    }

    private static func append(_ scalar: Any, as type: DataType, to bytes: inout [UInt8], where position: String, expected: String) throws(DMSError) {
        func store<T>(_ value: T) { withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) } }
        func refuse(_ problem: String) -> DMSError { DMSError(.invalidInput, "\(position): \(problem); \(expected)") }

        let number = scalar as? NSNumber
        let isBool = JSONNumber.isBoolean(scalar)
        switch type {
        case .bool:
            guard let number, isBool || number.doubleValue == 0 || number.doubleValue == 1 else { throw refuse("\(scalar) is not a boolean") }
            bytes.append(number.boolValue ? 1 : 0)
        case .float32, .float16, .float64:
            let value: Double
            if let number, !isBool {
                value = number.doubleValue
            } else if let text = scalar as? String, let special = ["NaN": Double.nan, "Infinity": .infinity, "-Infinity": -.infinity][text] {
                value = special
            } else {
                throw refuse("\(scalar) is not a number")
            }
            // A finite number that the type can only hold as infinity is out of its range.
            switch type {
            case .float64:
                store(value)
            case .float16:
                let half = Float16(value)
                guard half.isFinite || !value.isFinite else { throw refuse("\(value) is out of FP16's range ±\(Float16.greatestFiniteMagnitude)") }
                store(half.bitPattern)
            default:
                let single = Float(value)
                guard single.isFinite || !value.isFinite else { throw refuse("\(value) is out of FP32's range ±\(Float.greatestFiniteMagnitude)") }
                store(single)
            }
        case .int8, .int16, .int32, .int64, .uint8:
            let (low, high): (Int64, Int64) =
                switch type {
                case .int8: (Int64(Int8.min), Int64(Int8.max))
                case .int16: (Int64(Int16.min), Int64(Int16.max))
                case .int32: (Int64(Int32.min), Int64(Int32.max))
                case .uint8: (0, 255)
                default: (Int64.min, Int64.max)
                }
            let integer: Int64
            switch JSONNumber.integer(scalar) {
            case .exact(let exact): integer = exact
            case .outOfRange: throw refuse("\(scalar) is out of \(type.rawValue)'s range \(low)...\(high)")
            case .notAnInteger: throw refuse("\(scalar) is not an integer")
            }
            guard integer >= low, integer <= high else { throw refuse("\(integer) is out of \(type.rawValue)'s range \(low)...\(high)") }
            switch type {
            case .int8: store(Int8(integer))
            case .int16: store(Int16(integer))
            case .int32: store(Int32(integer))
            case .uint8: store(UInt8(integer))
            default: store(integer)
            }
        }
    }

    /// The KServe v2-style JSON object for an output tensor.
    public static func encode(_ tensor: Tensor, name: String) -> JSONValue {
        .object([
            ("name", .string(name)),
            ("shape", .array(tensor.shape.map { .number(Double($0)) })),
            ("datatype", .string(tensor.dataType.rawValue)),
            ("data", .array(values(of: tensor))),
        ])
    }

    /// The tensor's elements as JSON values, in row-major order.
    public static func values(of tensor: Tensor) -> [JSONValue] {
        tensor.withUnsafeBytes { raw -> [JSONValue] in
            func map<T>(_ type: T.Type, _ transform: (T) -> JSONValue) -> [JSONValue] {
                (0..<tensor.elementCount).map { transform(raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
            }
            switch tensor.dataType {
            case .float32: return map(Float.self) { float(Double($0)) }
            case .float64: return map(Double.self) { float($0) }
            case .float16: return map(UInt16.self) { float(Double(Float16(bitPattern: $0))) }
            case .int8: return map(Int8.self) { .number(Double($0)) }
            case .int16: return map(Int16.self) { .number(Double($0)) }
            case .int32: return map(Int32.self) { .number(Double($0)) }
            case .int64: return map(Int64.self) { .integer($0) }
            case .uint8: return map(UInt8.self) { .number(Double($0)) }
            case .bool: return map(UInt8.self) { .bool($0 != 0) }
            }
        }
    }

    private static func float(_ value: Double) -> JSONValue {
        if value.isNaN { return .string("NaN") }
        if value.isInfinite { return .string(value > 0 ? "Infinity" : "-Infinity") }
        return .number(value)
    }
}
