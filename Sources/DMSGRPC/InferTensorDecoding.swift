import DMSCore
import DMSRuntime
import Foundation

/// A `ModelInferRequest` read into the domain's `InferenceRequest`, with the outputs it asks
/// for.
///
/// Each input's elements come either from `raw_input_contents` (then for every input, in the
/// order of `inputs`, laid out as the REST binary extension lays them out) or from its typed
/// `contents`. Narrow integers travel widened in the typed fields (INT8 and INT16 in
/// `int_contents`, UINT8 in `uint_contents`) and are range-checked; FP16 has no typed field and
/// must come raw. Shapes are checked against the limits of dimensions and elements before
/// anything is copied.
package struct InferMessage {
    package var request: InferenceRequest
    /// The outputs asked for, in order; nil for all of them.
    var outputs: [String]?
    /// The `timeout` request parameter: Triton's time budget in microseconds.
    var timeoutMicroseconds: Int64?

    /// Reads a `ModelInferRequest` from its wire bytes, as the gRPC transport does before
    /// `init(_:limits:)` (the fuzz target `grpc-infer` starts here).
    package init(serializedRequest bytes: [UInt8]) throws(DMSError) {
        let message: Inference_ModelInferRequest
        do {
            message = try Inference_ModelInferRequest(serializedBytes: bytes)
        } catch {
            throw DMSError(.invalidInput, "the message is not a ModelInferRequest (\(error))", cause: error)
        }
        try self.init(message)
    }

    init(_ message: Inference_ModelInferRequest, limits: TensorJSON.Limits = TensorJSON.Limits()) throws(DMSError) {
        guard !message.inputs.isEmpty else { throw DMSError(.invalidInput, "the request has no inputs") }
        let raw = message.rawInputContents
        guard raw.isEmpty || raw.count == message.inputs.count else {
            throw DMSError(
                .invalidInput,
                "raw_input_contents has \(raw.count) entries for \(message.inputs.count) inputs; give raw contents for every input or for none")
        }
        var inputs: [InferenceRequest.Input] = []
        for (index, input) in message.inputs.enumerated() {
            inputs.append(try Self.input(input, raw: raw.isEmpty ? nil : raw[index], limits: limits))
        }
        request = InferenceRequest(inputs: inputs)
        if let timeout = message.parameters["timeout"] {
            switch timeout.parameterChoice {
            case .int64Param(let value) where value >= 0: timeoutMicroseconds = value
            case .uint64Param(let value): timeoutMicroseconds = Int64(clamping: value)
            default: throw DMSError(.invalidInput, "the 'timeout' parameter must be a whole number of microseconds")
            }
        }
        if !message.outputs.isEmpty {
            outputs = try message.outputs.map { output throws(DMSError) in
                try OpenInference.refuseUnsupportedParameters(Array(output.parameters.keys), of: "output '\(output.name)'")
                return output.name
            }
        }
    }

    private static func input(
        _ input: Inference_ModelInferRequest.InferInputTensor, raw: Data?, limits: TensorJSON.Limits
    ) throws(DMSError) -> InferenceRequest.Input {
        let name = input.name
        try OpenInference.refuseUnsupportedParameters(Array(input.parameters.keys), of: "input '\(name)'")
        guard input.shape.count <= limits.maxDimensions else {
            throw DMSError(.invalidInput, "input '\(name)': its shape has \(input.shape.count) dimensions; at most \(limits.maxDimensions) are taken")
        }
        guard input.shape.allSatisfy({ $0 >= 0 && $0 <= Int64(Int.max) }) else {
            throw DMSError(.invalidInput, "input '\(name)': shape \(input.shape) must hold non-negative integers")
        }
        let shape = input.shape.map { Int($0) }
        guard let count = Tensor.checkedElementCount(of: shape), count <= limits.maxElements else {
            throw DMSError(.payloadTooLarge, "input '\(name)': shape \(shape) holds more elements than the limit of \(limits.maxElements)")
        }
        if let raw {
            if input.hasContents {
                throw DMSError(.invalidInput, "input '\(name)' has both typed contents and raw_input_contents; send one")
            }
            return try InferenceRequest.Input(name: name, datatype: input.datatype, shape: shape, rawBytes: ArraySlice(raw))
        }
        // An empty contents message is not on the wire: an input of no elements may have none.
        guard input.hasContents || count == 0 else {
            throw DMSError(.invalidInput, "input '\(name)' has no contents and the request no raw_input_contents")
        }
        let contents = input.contents
        if input.datatype == "BYTES" {
            let items = try counted(contents.bytesContents, "bytes_contents", count: count, input: name, shape: shape)
            return InferenceRequest.Input(name: name, content: .bytes(items.map { Array($0) }, shape: shape))
        }
        let dataType = try InferenceRequest.Input.dataType(input.datatype, inputName: name)
        let tensor: Tensor
        switch dataType {
        case .bool:
            let values = try counted(contents.boolContents, "bool_contents", count: count, input: name, shape: shape)
            tensor = Tensor(dataType: .bool, shape: shape, bytes: values.map { $0 ? 1 : 0 })
        case .int8:
            tensor = try narrowed(contents.intContents, "int_contents", as: Int8.self, dataType: dataType, count: count, input: name, shape: shape)
        case .int16:
            tensor = try narrowed(contents.intContents, "int_contents", as: Int16.self, dataType: dataType, count: count, input: name, shape: shape)
        case .int32:
            tensor = try narrowed(contents.intContents, "int_contents", as: Int32.self, dataType: dataType, count: count, input: name, shape: shape)
        case .int64:
            tensor = try narrowed(contents.int64Contents, "int64_contents", as: Int64.self, dataType: dataType, count: count, input: name, shape: shape)
        case .uint8:
            tensor = try narrowed(contents.uintContents, "uint_contents", as: UInt8.self, dataType: dataType, count: count, input: name, shape: shape)
        case .float32:
            let values = try counted(contents.fp32Contents, "fp32_contents", count: count, input: name, shape: shape)
            tensor = Tensor(dataType: dataType, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
        case .float64:
            let values = try counted(contents.fp64Contents, "fp64_contents", count: count, input: name, shape: shape)
            tensor = Tensor(dataType: dataType, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
        case .float16:
            throw DMSError(.invalidInput, "input '\(name)': FP16 has no typed contents field; send it in raw_input_contents")
        }
        return InferenceRequest.Input(name: name, content: .tensor(tensor))
    }

    /// `values` when it holds exactly the `count` elements of `shape`.
    private static func counted<Values: Collection>(
        _ values: Values, _ field: String, count: Int, input name: String, shape: [Int]
    ) throws(DMSError) -> Values {
        guard values.count == count else {
            throw DMSError(.invalidInput, "input '\(name)': \(field) holds \(values.count) values; shape \(shape) takes \(count)")
        }
        return values
    }

    /// A tensor of `Element`s from wider integers, each checked to fit.
    private static func narrowed<Wide: BinaryInteger, Element: FixedWidthInteger>(
        _ values: [Wide], _ field: String, as: Element.Type, dataType: DataType, count: Int, input name: String, shape: [Int]
    ) throws(DMSError) -> Tensor {
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for value in try counted(values, field, count: count, input: name, shape: shape) {
            guard let element = Element(exactly: value) else {
                throw DMSError(.invalidInput, "input '\(name)': \(field) value \(value) does not fit \(dataType.rawValue)")
            }
            elements.append(element)
        }
        return Tensor(dataType: dataType, shape: shape, bytes: elements.withUnsafeBytes { Array($0) })
    }
}

extension Inference_ModelInferResponse {
    /// The answer to a request: every output's name, datatype and shape, its elements in
    /// `raw_output_contents` (the form tritonclient reads; little-endian, row after row).
    init(modelName: String, id: String, outputs: [(name: String, tensor: Tensor)]) {
        self.init()
        self.modelName = modelName
        modelVersion = OpenInference.modelVersion
        self.id = id
        self.outputs = outputs.map { output in
            .with {
                $0.name = output.name
                $0.datatype = output.tensor.dataType.rawValue
                $0.shape = output.tensor.shape.map { Int64($0) }
            }
        }
        rawOutputContents = outputs.map { output in output.tensor.withUnsafeBytes { Data($0) } }
    }
}
