import DMSCore
import Foundation
import Testing

@Suite("signature.json rules")
struct ModelSignatureTests {
    private func parse(_ json: String) throws(DMSError) -> ModelSignature {
        try ModelSignature(json: Data(json.utf8), fileName: "signature.json")
    }

    private func expectError(_ json: String, mentioning fragment: String) {
        do {
            _ = try parse(json)
            Issue.record("expected an error mentioning \(fragment)")
        } catch {
            #expect(error.code == .invalidModel)
            #expect(error.message.contains(fragment), "\(error.message)")
            #expect(error.message.contains("signature.json"))
        }
    }

    @Test func parsesTheSeedExample() throws {
        let signature = try parse(#"""
            {"inputs": [{"data_name": "data", "data_shape": [0, 3, 224, 224]}], "input_type": "image/jpeg",
             "outputs": [{"data_name": "softmax", "data_shape": [0, 1000]}], "output_type": "application/json"}
            """#)
        #expect(signature.inputs == [.init(name: "data", shape: [0, 3, 224, 224], preprocess: .seed(channels: 3, height: 224, width: 224))])
        #expect(signature.outputs == [.init(name: "softmax", shape: [0, 1000])])
        #expect(signature.inputType == .jpeg)
        #expect(signature.outputType == .json)
        #expect(signature.inputs[0].hasDynamicBatch)
        #expect(signature.inputs[0].shape(batchSize: 4) == [4, 3, 224, 224])
        #expect(signature.batchesAcrossRequests)
        let fixedOutput = try ModelSignature(
            inputs: signature.inputs, inputType: .jpeg, outputs: [.init(name: "softmax", shape: [1, 1000])], outputType: .json)
        #expect(!fixedOutput.batchesAcrossRequests)
    }

    @Test(arguments: [0, -1, 1, 8])
    func acceptsBatchDimensions(batch: Int) throws {
        let signature = try parse(#"{"inputs": [{"data_name": "data", "data_shape": [\#(batch), 1, 8, 8]}], "input_type": "image/jpeg", "outputs": [{"data_name": "out", "data_shape": [\#(batch), 10]}], "output_type": "application/json"}"#)
        #expect(signature.inputs[0].hasDynamicBatch == (batch <= 0))
        #expect(signature.inputs[0].shape(batchSize: 3)[0] == (batch <= 0 ? 3 : batch))
    }

    @Test func refusesBrokenSignatures() {
        let output = #""outputs": [{"data_name": "o", "data_shape": [0, 10]}], "output_type": "application/json""#
        expectError("not json", mentioning: "not valid JSON")
        expectError("[]", mentioning: "top level")
        expectError(#"{"input_type": "image/jpeg", \#(output)}"#, mentioning: "'inputs'")
        expectError(#"{"inputs": [], "input_type": "image/jpeg", \#(output)}"#, mentioning: "must not be empty")
        expectError(#"{"inputs": [{"data_shape": [0, 3, 2, 2]}], "input_type": "image/jpeg", \#(output)}"#, mentioning: "inputs[0].data_name")
        expectError(#"{"inputs": [{"data_name": "d", "data_shape": "0,3"}], "input_type": "image/jpeg", \#(output)}"#, mentioning: "inputs[0].data_shape")
        expectError(#"{"inputs": [{"data_name": "d", "data_shape": [0, 3.5, 2, 2]}], "input_type": "image/jpeg", \#(output)}"#, mentioning: "integers")
        expectError(#"{"inputs": [{"data_name": "d", "data_shape": [0, 3, 0, 224]}], "input_type": "image/jpeg", \#(output)}"#, mentioning: "positive height and width")
        expectError(#"{"inputs": [{"data_name": "d", "data_shape": [0, 3, 224]}], "input_type": "image/jpeg", \#(output)}"#, mentioning: "[batch, channels, height, width]")
        expectError(#"{"inputs": [{"data_name": "d", "data_shape": [0, 4, 2, 2]}], "input_type": "image/jpeg", \#(output)}"#, mentioning: "1 or 3 channels")
        expectError(#"{"inputs": [{"data_name": "d", "data_shape": [0, 3, 2, 2]}], "input_type": "image/gif", \#(output)}"#, mentioning: "'input_type' is 'image/gif'")
        expectError(#"{"inputs": [{"data_name": "d", "data_shape": [0, 3, 2, 2]}, {"data_name": "d", "data_shape": [0, 3, 2, 2]}], "input_type": "image/jpeg", \#(output)}"#, mentioning: "appears twice")
        expectError(#"{"inputs": [{"data_name": "d", "data_shape": [-2, 3, 2, 2]}], "input_type": "image/jpeg", \#(output)}"#, mentioning: "negative dimension")
        expectError(#"{"inputs": [{"data_name": "d", "data_shape": [0, 3, 2, 2], "data_type": "INT32"}], "input_type": "image/jpeg", \#(output)}"#, mentioning: "must be FP32 for image/jpeg")
        expectError(#"{"inputs": [{"data_name": "d", "data_shape": [0, 3, 2, 2], "data_type": "complex"}], "input_type": "image/jpeg", \#(output)}"#, mentioning: "data_type must be one of")
    }

    @Test func jsonInputsMayHaveDynamicDimensions() throws {
        let signature = try parse(#"{"inputs": [{"data_name": "x", "data_shape": [0, 0]}], "input_type": "application/json", "outputs": [{"data_name": "y", "data_shape": [0, 2]}], "output_type": "application/json"}"#)
        try signature.validate(inputs: PreparedInputs(tensors: [Tensor(shape: [2, 7], floats: Array(repeating: 0, count: 14))]))
    }

    @Test func inputsAreFoundByPositionOrDataName() throws {
        let signature = try parse(#"{"inputs": [{"data_name": "a", "data_shape": [0, 1, 2, 2]}, {"data_name": "b", "data_shape": [0, 1, 2, 2]}], "input_type": "image/jpeg", \#("\"outputs\": [{\"data_name\": \"o\", \"data_shape\": [0, 1]}], \"output_type\": \"application/json\"")}"#)
        #expect(signature.inputIndex(forFieldName: "input0") == 0)
        #expect(signature.inputIndex(forFieldName: "input1") == 1)
        #expect(signature.inputIndex(forFieldName: "b") == 1)
        #expect(signature.inputIndex(forFieldName: "input2") == nil)
        #expect(signature.inputIndex(forFieldName: "input01") == nil)
        #expect(signature.inputIndex(forFieldName: "c") == nil)

        let request = PredictionRequest(parts: [.init(name: "b", bytes: [2]), .init(name: "input0", bytes: [1])])
        #expect(try request.partsInSignatureOrder(signature).map(\.bytes) == [[1], [2]])
        #expect(throws: DMSError.self) { try PredictionRequest(parts: [.init(name: "input0", bytes: [1])]).partsInSignatureOrder(signature) }
        #expect(throws: DMSError.self) { try PredictionRequest(parts: [.init(name: "input0", bytes: [1]), .init(name: "a", bytes: [1])]).partsInSignatureOrder(signature) }
        #expect(throws: DMSError.self) { try PredictionRequest(parts: [.init(name: "zzz", bytes: [1])]).partsInSignatureOrder(signature) }
    }

    @Test func validatesTensorShapesBeforeAnEngineSeesThem() throws {
        let signature = try parse(#"{"inputs": [{"data_name": "d", "data_shape": [0, 1, 2, 2]}], "input_type": "image/jpeg", "outputs": [{"data_name": "o", "data_shape": [0, 1]}], "output_type": "application/json"}"#)
        try signature.validate(inputs: PreparedInputs(tensors: [Tensor(shape: [3, 1, 2, 2], floats: Array(repeating: 0, count: 12))]))
        #expect(throws: DMSError.self) { try signature.validate(inputs: PreparedInputs(tensors: [Tensor(shape: [1, 1, 2, 3], floats: Array(repeating: 0, count: 6))])) }
        #expect(throws: DMSError.self) { try signature.validate(inputs: PreparedInputs(tensors: [Tensor(shape: [1, 4], floats: Array(repeating: 0, count: 4))])) }
        #expect(throws: DMSError.self) { try signature.validate(inputs: PreparedInputs(tensors: [])) }
        #expect(throws: DMSError.self) { try signature.validate(inputs: PreparedInputs(tensors: [Tensor(dataType: .int32, shape: [1, 1, 2, 2], bytes: Array(repeating: 0, count: 16))])) }
    }

    @Test func boundsTheElementsASignatureMayDeclare() throws {
        let output = #""outputs": [{"data_name": "o", "data_shape": [0, 10]}], "output_type": "application/json""#
        expectError(#"{"inputs": [{"data_name": "d", "data_shape": [0, 3, 100000, 100000]}], "input_type": "image/jpeg", \#(output)}"#, mentioning: "more than 100000000 elements")
        expectError(#"{"inputs": [{"data_name": "d", "data_shape": [0, 4611686018427387904, 4]}], "input_type": "application/json", \#(output)}"#, mentioning: "more than 100000000 elements")
        expectError(#"{"inputs": [{"data_name": "d", "data_shape": [0, 9223372036854775808]}], "input_type": "application/json", \#(output)}"#, mentioning: "integers only")
        expectError(#"{"inputs": [{"data_name": "d", "data_shape": [0, 2]}], "input_type": "application/json", "outputs": [{"data_name": "o", "data_shape": [1000000, 1000]}], "output_type": "application/json"}"#, mentioning: "outputs[0].data_shape")
        // The limit itself is allowed, with dynamic dimensions counted as 1.
        let atTheLimit = try parse(#"{"inputs": [{"data_name": "d", "data_shape": [0, 100, 1000, 1000]}], "input_type": "application/json", \#(output)}"#)
        #expect(atTheLimit.inputs[0].declaredElementCount == ModelSignature.maxDeclaredElements)
    }

    @Test func refusesRequestShapesWhoseSizeOverflows() throws {
        let signature = try parse(#"{"inputs": [{"data_name": "x", "data_shape": [0, -1, -1]}], "input_type": "application/json", "outputs": [{"data_name": "y", "data_shape": [0, 2]}], "output_type": "application/json"}"#)
        for shape in [[1, 1 << 62, 4], [1, 1 << 40, 1 << 40], [2, 10_000, 10_000]] {
            let inputs = PreparedInputs([.init(dataType: .float32, shape: shape) { _ throws(DMSError) in }])
            let error = #expect(throws: DMSError.self) { try signature.validate(inputs: inputs) }
            #expect(error?.code == .payloadTooLarge, "\(shape)")
        }
        try signature.validate(inputs: PreparedInputs([.init(dataType: .float32, shape: [1, 10_000, 10_000]) { _ throws(DMSError) in }]))
    }

    @Test func overflowCheckedElementCounts() {
        #expect(Tensor.checkedElementCount(of: []) == 1)
        #expect(Tensor.checkedElementCount(of: [3, 0, 1 << 62]) == 0)
        #expect(Tensor.checkedElementCount(of: [1 << 31, 1 << 31]) == 1 << 62)
        #expect(Tensor.checkedElementCount(of: [1 << 32, 1 << 32]) == nil)
        #expect(Tensor.checkedElementCount(of: [2, -1]) == nil)
    }

    @Test func namedItemsAreOrderedByNameOrPositionAndProblemsAreNamed() throws {
        let signature = try parse(
            #"{"inputs": [{"data_name": "a", "data_shape": [0, 2]}, {"data_name": "b", "data_shape": [0, 2]}], "input_type": "application/json","#
                + #" "outputs": [{"data_name": "y", "data_shape": [0, 2]}], "output_type": "application/json"}"#)
        #expect(signature.inSignatureOrder(["b", "input0"], name: { $0 }) == .success(["input0", "b"]))
        #expect(signature.inSignatureOrder(["a", "c"], name: { $0 }) == .failure(.unknown(name: "c")))
        #expect(signature.inSignatureOrder(["b", "input1"], name: { $0 }) == .failure(.repeated(index: 1)))
        #expect(signature.inSignatureOrder(["b"], name: { $0 }) == .failure(.missing(index: 0)))
    }
}
