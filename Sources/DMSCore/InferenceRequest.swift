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

extension InferenceRequest.Input {
    /// An input whose elements come as raw bytes, as the Open Inference Protocol's binary
    /// forms carry them (REST's binary tensor data extension, gRPC's `raw_input_contents`):
    /// numbers little-endian, row after row; `BYTES` items each after its length as a
    /// little-endian 32-bit integer. `.invalidInput` when the bytes do not fill `shape` exactly,
    /// for a datatype this server does not take, or for a `BOOL` byte other than 0 and 1.
    public init(name: String, datatype: String, shape: [Int], rawBytes bytes: ArraySlice<UInt8>) throws(DMSError) {
        guard let count = Tensor.checkedElementCount(of: shape), shape.allSatisfy({ $0 >= 0 }) else {
            throw DMSError(.invalidInput, "input '\(name)': shape \(shape) is not one of non-negative sizes that fits in memory")
        }
        if datatype == "BYTES" {
            let items = try Self.lengthPrefixedItems(bytes, count: count, inputName: name, shape: shape)
            self.init(name: name, content: .bytes(items, shape: shape))
            return
        }
        let dataType = try Self.dataType(datatype, inputName: name)
        guard count <= bytes.count, bytes.count == count * dataType.byteWidth else {
            throw DMSError(
                .invalidInput,
                "input '\(name)': got \(bytes.count) bytes of data; shape \(shape) of \(datatype) takes \(count) elements of \(dataType.byteWidth) bytes")
        }
        // Engines read BOOL bytes as C++ bools: anything but 0 and 1 is undefined there.
        if dataType == .bool, let index = bytes.firstIndex(where: { $0 > 1 }) {
            throw DMSError(.invalidInput, "input '\(name)': BOOL element \(index - bytes.startIndex) is the byte \(bytes[index]); booleans are 0 or 1")
        }
        self.init(name: name, content: .tensor(Tensor(dataType: dataType, shape: shape, bytes: Array(bytes))))
    }

    /// The element type a protocol datatype name stands for; `.invalidInput` for one this
    /// server does not take (`BYTES` is not a tensor type: callers handle it first).
    public static func dataType(_ datatype: String, inputName name: String) throws(DMSError) -> DataType {
        guard let dataType = DataType(rawValue: datatype) else {
            let known = (DataType.allCases.map(\.rawValue) + ["BYTES"]).joined(separator: ", ")
            throw DMSError(.invalidInput, "input '\(name)': datatype '\(datatype)' is not one this server takes (\(known))")
        }
        return dataType
    }

    /// The `count` `BYTES` items of `shape` in their binary form: each a little-endian 32-bit
    /// length, then that many bytes. Stops at the first item too many, so that a body of many
    /// tiny items costs nothing before it is refused.
    static func lengthPrefixedItems(_ data: ArraySlice<UInt8>, count: Int, inputName name: String, shape: [Int]) throws(DMSError) -> [[UInt8]] {
        var items: [[UInt8]] = []
        var offset = data.startIndex
        while offset < data.endIndex {
            guard items.count < count else {
                throw DMSError(.invalidInput, "input '\(name)': the BYTES data holds more items than shape \(shape) holds (\(count))")
            }
            guard data.endIndex - offset >= 4 else { throw DMSError(.invalidInput, "input '\(name)': BYTES data ends inside an item's 4-byte length") }
            let length = data[offset..<(offset + 4)].reversed().reduce(0) { $0 << 8 | Int($1) }
            offset += 4
            guard length <= data.endIndex - offset else {
                throw DMSError(.invalidInput, "input '\(name)': a BYTES item claims \(length) bytes; \(data.endIndex - offset) are left")
            }
            items.append(Array(data[offset..<(offset + length)]))
            offset += length
        }
        guard items.count == count else {
            throw DMSError(.invalidInput, "input '\(name)': got \(items.count) BYTES items for shape \(shape), which holds \(count)")
        }
        return items
    }
}
