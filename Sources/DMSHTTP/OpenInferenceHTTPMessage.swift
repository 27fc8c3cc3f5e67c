import DMSCore
import DMSRuntime
import Foundation

/// An Open Inference Protocol (KServe v2) REST inference request as the body carries it, with
/// Triton's binary tensor data extension, which `tritonclient.http` uses by default.
///
/// The body is a JSON object, or, when the `Inference-Header-Content-Length` header is present,
/// that many bytes of JSON followed by the inputs' binary data, in the order of the inputs that
/// declare a `binary_data_size` parameter. Binary numbers are little-endian; a binary `BYTES`
/// tensor is its items one after the other, each after its length as a little-endian 32-bit
/// integer. The content type is not looked at: tritonclient sends none.
package struct OpenInferenceHTTPRequest {
    /// An output the client asked for, and whether it wants it as binary data.
    package struct RequestedOutput {
        package var name: String
        var binary: Bool?
    }

    var id: String?
    package var request: InferenceRequest
    /// The outputs asked for, in the order asked; nil for all of them.
    package var outputs: [RequestedOutput]?
    /// `parameters.binary_data_output`: every output as binary data unless it says otherwise.
    var binaryOutputs: Bool
    /// `parameters.timeout`: Triton's time budget in microseconds (see `OpenInference.deadline`).
    var timeoutMicroseconds: Int64?

    /// Reads the body; `headerLength` is the `Inference-Header-Content-Length` header's value.
    package init(body: [UInt8], headerLength: String?, limits: TensorJSON.Limits = TensorJSON.Limits()) throws(DMSError) {
        var jsonEnd = body.count
        if let headerLength {
            guard let length = Int(headerLength.trimmingCharacters(in: .whitespaces)), length >= 0, length <= body.count else {
                throw DMSError(.invalidInput, "Inference-Header-Content-Length is '\(headerLength)'; it must be the JSON header's length in bytes, at most the body's \(body.count)")
            }
            jsonEnd = length
        }
        let object: [String: Any]
        do {
            let parsed = try JSONSerialization.jsonObject(with: Data(body[0..<jsonEnd]))
            guard let dictionary = parsed as? [String: Any] else { throw DMSError(.invalidInput, "the inference request must be a JSON object") }
            object = dictionary
        } catch let error as DMSError {
            throw error
        } catch {
            throw DMSError(.invalidInput, "the inference request's JSON is malformed (\(error.localizedDescription))", cause: error)
        }
        if let id = object["id"] {
            guard let id = id as? String else { throw DMSError(.invalidInput, "'id' must be a string") }
            self.id = id
        }
        let parameters = try Self.object(object["parameters"], "parameters")
        binaryOutputs = try Self.bool(parameters?["binary_data_output"], "parameters.binary_data_output") ?? false
        if let timeout = parameters?["timeout"] {
            guard case .exact(let integer) = JSONNumber.integer(timeout), integer >= 0, let microseconds = Int64(exactly: integer) else {
                throw DMSError(.invalidInput, "'parameters.timeout' must be a whole number of microseconds")
            }
            timeoutMicroseconds = microseconds
        }

        guard let inputs = object["inputs"] as? [Any], !inputs.isEmpty else {
            throw DMSError(.invalidInput, "'inputs' must be a non-empty array of {name, shape, datatype, data}")
        }
        var binary = BinarySection(bytes: body, offset: jsonEnd)
        var decoded: [InferenceRequest.Input] = []
        for (index, input) in inputs.enumerated() {
            decoded.append(try Self.input(input, index: index, binary: &binary, limits: limits))
        }
        guard binary.offset == body.count else {
            throw DMSError(.invalidInput, "the body holds \(body.count - binary.offset) bytes of binary data beyond what the inputs' binary_data_size parameters claim")
        }
        request = InferenceRequest(inputs: decoded)

        if let outputs = object["outputs"] {
            guard let outputs = outputs as? [Any] else { throw DMSError(.invalidInput, "'outputs' must be an array of {name, parameters}") }
            self.outputs = try outputs.enumerated().map { index, output throws(DMSError) in
                guard let output = output as? [String: Any], let name = output["name"] as? String else {
                    throw DMSError(.invalidInput, "outputs[\(index)] must be an object with a string 'name'")
                }
                let parameters = try Self.object(output["parameters"], "outputs[\(index)].parameters")
                try Self.refuseUnsupported(parameters, of: "output '\(name)'")
                return RequestedOutput(name: name, binary: try Self.bool(parameters?["binary_data"], "outputs[\(index)].parameters.binary_data"))
            }
        }
    }

    /// The part of the body after the JSON header, read front to back.
    private struct BinarySection {
        let bytes: [UInt8]
        var offset: Int

        mutating func take(_ count: Int, for name: String) throws(DMSError) -> ArraySlice<UInt8> {
            guard count >= 0, count <= bytes.count - offset else {
                throw DMSError(.invalidInput, "input '\(name)': binary_data_size \(count) goes past the end of the body (\(bytes.count - offset) bytes of binary data left)")
            }
            defer { offset += count }
            return bytes[offset..<(offset + count)]
        }
    }

    private static func input(_ value: Any, index: Int, binary: inout BinarySection, limits: TensorJSON.Limits) throws(DMSError) -> InferenceRequest.Input {
        guard let input = value as? [String: Any] else { throw DMSError(.invalidInput, "inputs[\(index)] must be an object {name, shape, datatype, data}") }
        guard let name = input["name"] as? String else { throw DMSError(.invalidInput, "inputs[\(index)] has no string 'name'") }
        guard let shapeValues = input["shape"] as? [Any] else { throw DMSError(.invalidInput, "input '\(name)' has no 'shape' array") }
        guard shapeValues.count <= limits.maxDimensions else {
            throw DMSError(.invalidInput, "input '\(name)': its shape has \(shapeValues.count) dimensions; at most \(limits.maxDimensions) are taken")
        }
        var shape: [Int] = []
        for dimension in shapeValues {
            guard case .exact(let integer) = JSONNumber.integer(dimension), integer >= 0, let size = Int(exactly: integer) else {
                throw DMSError(.invalidInput, "input '\(name)': shape \(shapeValues) must hold non-negative integers")
            }
            shape.append(size)
        }
        guard let datatype = input["datatype"] as? String else { throw DMSError(.invalidInput, "input '\(name)' has no string 'datatype'") }
        guard let count = Tensor.checkedElementCount(of: shape), count <= limits.maxElements else {
            throw DMSError(.payloadTooLarge, "input '\(name)': shape \(shape) holds more elements than the limit of \(limits.maxElements)")
        }
        let parameters = try object(input["parameters"], "input '\(name)' parameters")
        try refuseUnsupported(parameters, of: "input '\(name)'")
        let binarySize: Int?
        if let size = parameters?["binary_data_size"] {
            guard case .exact(let integer) = JSONNumber.integer(size), let size = Int(exactly: integer) else {
                throw DMSError(.invalidInput, "input '\(name)': binary_data_size must be an integer")
            }
            binarySize = size
        } else {
            binarySize = nil
        }
        if binarySize == nil, input["data"] == nil {
            throw DMSError(.invalidInput, "input '\(name)' has neither 'data' nor a binary_data_size parameter")
        }

        if let binarySize {
            return try InferenceRequest.Input(name: name, datatype: datatype, shape: shape, rawBytes: binary.take(binarySize, for: name))
        }
        if datatype == "BYTES" {
            let items = try jsonByteItems(input["data"]!, name: name, limits: limits)
            guard items.count == count else {
                throw DMSError(.invalidInput, "input '\(name)': got \(items.count) BYTES items for shape \(shape), which holds \(count)")
            }
            return InferenceRequest.Input(name: name, content: .bytes(items, shape: shape))
        }
        let dataType = try InferenceRequest.Input.dataType(datatype, inputName: name)
        let tensor = try TensorJSON.decode(elements: input["data"]!, dataType: dataType, shape: shape, inputName: "input '\(name)'", limits: limits)
        return InferenceRequest.Input(name: name, content: .tensor(tensor))
    }

    /// JSON `BYTES` items: strings (their UTF-8 bytes), flat or nested.
    private static func jsonByteItems(_ value: Any, name: String, limits: TensorJSON.Limits) throws(DMSError) -> [[UInt8]] {
        var items: [[UInt8]] = []
        func collect(_ element: Any, depth: Int) throws(DMSError) {
            if let text = element as? String {
                items.append(Array(text.utf8))
            } else if let array = element as? [Any] {
                guard depth < limits.maxDepth else { throw DMSError(.invalidInput, "input '\(name)': nested deeper than \(limits.maxDepth) levels") }
                for member in array { try collect(member, depth: depth + 1) }
            } else {
                throw DMSError(.invalidInput, "input '\(name)': BYTES data must be strings (or sent as binary data)")
            }
        }
        guard value is [Any] else { throw DMSError(.invalidInput, "input '\(name)': 'data' is not a JSON array") }
        try collect(value, depth: 0)
        return items
    }

    private static func refuseUnsupported(_ parameters: [String: Any]?, of what: String) throws(DMSError) {
        guard let parameters else { return }
        try OpenInference.refuseUnsupportedParameters(Array(parameters.keys), of: what)
    }

    /// `value` as a JSON object, nil when absent; `.invalidInput` naming `field` otherwise.
    static func object(_ value: Any?, _ field: String) throws(DMSError) -> [String: Any]? {
        guard let value else { return nil }
        guard let object = value as? [String: Any] else { throw DMSError(.invalidInput, "'\(field)' must be a JSON object") }
        return object
    }

    private static func bool(_ value: Any?, _ field: String) throws(DMSError) -> Bool? {
        guard let value else { return nil }
        guard JSONNumber.isBoolean(value), let flag = value as? Bool else { throw DMSError(.invalidInput, "'\(field)' must be true or false") }
        return flag
    }
}

/// An Open Inference Protocol REST inference response: JSON alone, or, when any output goes as
/// binary data, the JSON header followed by those outputs' bytes (its length in the
/// `Inference-Header-Content-Length` header).
struct OpenInferenceHTTPResponse {
    /// The JSON header, then the binary outputs.
    var body: [UInt8]
    /// The JSON header's length when binary outputs follow it; nil for a JSON-only body.
    var headerLength: Int?

    /// The response for `outputs` (name and tensor, in the order to send).
    init(modelName: String, modelVersion: String, id: String?, outputs: [(name: String, tensor: Tensor, binary: Bool)]) {
        var binaryData: [UInt8] = []
        var entries: [JSONValue] = []
        for output in outputs {
            var members: [(key: String, value: JSONValue)] = [
                ("name", .string(output.name)),
                ("datatype", .string(output.tensor.dataType.rawValue)),
                ("shape", .array(output.tensor.shape.map { .integer(Int64($0)) })),
            ]
            if output.binary {
                let bytes = output.tensor.withUnsafeBytes { Array($0) }
                members.append(("parameters", .object([("binary_data_size", .integer(Int64(bytes.count)))])))
                binaryData.append(contentsOf: bytes)
            } else {
                members.append(("data", .array(TensorJSON.values(of: output.tensor))))
            }
            entries.append(.object(members))
        }
        var document: [(key: String, value: JSONValue)] = [("model_name", .string(modelName)), ("model_version", .string(modelVersion))]
        if let id { document.append(("id", .string(id))) }
        document.append(("outputs", .array(entries)))
        let header = JSONValue.object(document).serialized()
        let anyBinary = outputs.contains { $0.binary }
        body = header + binaryData
        headerLength = anyBinary ? header.count : nil
    }
}
