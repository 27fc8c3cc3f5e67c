import DMSCore
import Foundation
import Testing

@testable import DMSHTTP

/// The Open Inference Protocol's REST bodies: JSON tensors (flat and nested), the binary tensor
/// data extension both ways, and the errors a malformed request gets.
@Suite("Open Inference Protocol REST messages")
struct OpenInferenceMessageTests {
    private func request(_ json: String, binary: [UInt8] = [], headerLength: Bool = false) throws(DMSError) -> OpenInferenceHTTPRequest {
        let header = Array(json.utf8)
        return try OpenInferenceHTTPRequest(body: header + binary, headerLength: headerLength ? String(header.count) : nil)
    }

    private func message(of body: () throws(DMSError) -> OpenInferenceHTTPRequest) -> String {
        do {
            _ = try body()
            return "no error"
        } catch {
            return error.message
        }
    }

    @Test func flatAndNestedDataGiveTheSameTensor() throws {
        let flat = try request(#"{"id": "r1", "inputs": [{"name": "x", "shape": [2, 2], "datatype": "INT32", "data": [1, 2, 3, 4]}]}"#)
        let nested = try request(#"{"inputs": [{"name": "x", "shape": [2, 2], "datatype": "INT32", "data": [[1, 2], [3, 4]]}]}"#)
        let expected = Tensor(dataType: .int32, shape: [2, 2], bytes: [Int32(1), 2, 3, 4].withUnsafeBytes { Array($0) })
        #expect(flat.id == "r1")
        #expect(flat.request.inputs == [InferenceRequest.Input(name: "x", content: .tensor(expected))])
        #expect(nested.request.inputs == flat.request.inputs)
        #expect(flat.outputs == nil)
        #expect(!flat.binaryOutputs)
    }

    @Test func binaryInputsAreTakenInOrderAfterTheJSONHeader() throws {
        let floats: [Float] = [1.5, -2, 3.25]
        let image: [UInt8] = [0xFF, 0xD8, 0xFF, 0x00]
        let binary = floats.withUnsafeBytes { Array($0) } + [4, 0, 0, 0] + image
        let parsed = try request(
            #"{"inputs": [{"name": "a", "shape": [1, 3], "datatype": "FP32", "parameters": {"binary_data_size": 12}},"#
                + #" {"name": "b", "shape": [1], "datatype": "BYTES", "parameters": {"binary_data_size": 8}}],"#
                + #" "outputs": [{"name": "y", "parameters": {"binary_data": true}}, {"name": "z"}]}"#,
            binary: binary, headerLength: true)
        #expect(parsed.request.inputs[0].content == .tensor(Tensor(shape: [1, 3], floats: floats)))
        #expect(parsed.request.inputs[1].content == .bytes([image], shape: [1]))
        #expect(parsed.outputs?.map(\.name) == ["y", "z"])
        #expect(parsed.outputs?.map(\.binary) == [true, nil])
    }

    @Test func jsonBytesAreUTF8Strings() throws {
        let parsed = try request(#"{"inputs": [{"name": "t", "shape": [2], "datatype": "BYTES", "data": ["hé", "x"]}]}"#)
        #expect(parsed.request.inputs[0].content == .bytes([Array("hé".utf8), [UInt8(ascii: "x")]], shape: [2]))
    }

    @Test(arguments: [
        (#"{"inputs": []}"#, "'inputs' must be a non-empty array"),
        (#"[1]"#, "must be a JSON object"),
        (#"{"inputs": [{"name": "x", "shape": [3], "datatype": "FP32", "data": [1, 2]}]}"#, "got 2 values; expected 3 FP32 values for shape [3]"),
        (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1, 2]}]}"#, "more values than the shape holds"),
        (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "UINT64", "data": [1]}]}"#, "datatype 'UINT64' is not one this server takes"),
        (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "INT8", "data": [300]}]}"#, "300 is out of INT8's range"),
        (#"{"inputs": [{"name": "x", "shape": [-1], "datatype": "FP32", "data": [1]}]}"#, "must hold non-negative integers"),
        (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32"}]}"#, "neither 'data' nor a binary_data_size"),
        (#"{"inputs": [{"shape": [1], "datatype": "FP32", "data": [1]}]}"#, "has no string 'name'"),
        (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "parameters": {"binary_data_output": 1}}"#, "must be true or false"),
        (#"{"inputs": [{"name": "x", "shape": [9999999999, 9999999999], "datatype": "FP32", "data": [1]}]}"#, "more elements than the limit"),
        (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "outputs": [{"nom": "y"}]}"#, "outputs[0] must be an object with a string 'name'"),
        (#"{"inputs": [{"name": "x", "shape": [10000000], "datatype": "FP32", "data": [1]}]}"#, "got 1 values; expected 10000000"),
        (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "outputs": [{"name": "y", "parameters": {"classification": 3}}]}"#, "classification extension is not supported"),
        (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "parameters": {"shared_memory_region": "r"}}]}"#, "shared memory extensions are not supported"),
    ])
    func malformedRequestsSayWhatIsWrong(json: String, fragment: String) {
        let text = message { () throws(DMSError) in try request(json) }
        #expect(text.contains(fragment), "\(text)")
    }

    @Test func binarySizesMustMatchTheShapeAndTheBody() {
        let header = #"{"inputs": [{"name": "a", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 8}}]}"#
        #expect(message { () throws(DMSError) in try request(header, binary: [0, 0, 0, 0], headerLength: true) }.contains("goes past the end of the body"))
        #expect(message { () throws(DMSError) in try request(header, binary: Array(repeating: 0, count: 9), headerLength: true) }.contains("1 bytes of binary data beyond"))
        let wrongSize = #"{"inputs": [{"name": "a", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 4}}]}"#
        #expect(message { () throws(DMSError) in try request(wrongSize, binary: [0, 0, 0, 0], headerLength: true) }.contains("takes 2 elements of 4 bytes"))
        let bytes = #"{"inputs": [{"name": "b", "shape": [1], "datatype": "BYTES", "parameters": {"binary_data_size": 6}}]}"#
        #expect(message { () throws(DMSError) in try request(bytes, binary: [9, 0, 0, 0, 1, 2], headerLength: true) }.contains("claims 9 bytes"))
        #expect(message { () throws(DMSError) in try OpenInferenceHTTPRequest(body: Array("{}".utf8), headerLength: "7") }.contains("at most the body's 2"))
        let bool = #"{"inputs": [{"name": "b", "shape": [2], "datatype": "BOOL", "parameters": {"binary_data_size": 2}}]}"#
        #expect(message { () throws(DMSError) in try request(bool, binary: [1, 7], headerLength: true) }.contains("BOOL element 1 is the byte 7"))
    }

    @Test func responsesPutBinaryOutputsAfterTheHeader() throws {
        let y = Tensor(shape: [1, 2], floats: [0.25, 0.75])
        let z = Tensor(dataType: .int64, shape: [1], bytes: Int64(3).littleEndianBytes)
        let response = OpenInferenceHTTPResponse(modelName: "m", modelVersion: "1", id: "r1", outputs: [("y", y, true), ("z", z, false)])
        let headerLength = try #require(response.headerLength)
        let header = String(decoding: response.body[0..<headerLength], as: UTF8.self)
        #expect(
            header
                == #"{"model_name":"m","model_version":"1","id":"r1","outputs":["#
                + #"{"name":"y","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":8}},"#
                + #"{"name":"z","datatype":"INT64","shape":[1],"data":[3]}]}"#)
        #expect(Array(response.body[headerLength...]) == y.withUnsafeBytes { Array($0) })

        let jsonOnly = OpenInferenceHTTPResponse(modelName: "m", modelVersion: "1", id: nil, outputs: [("z", z, false)])
        #expect(jsonOnly.headerLength == nil)
    }
}

extension Int64 {
    fileprivate var littleEndianBytes: [UInt8] { withUnsafeBytes(of: littleEndian) { Array($0) } }
}
