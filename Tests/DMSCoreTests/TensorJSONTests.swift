import DMSCore
import Foundation
import Testing

@Suite("JSON tensors")
struct TensorJSONTests {
    private func decode(_ json: String, _ type: DataType, _ shape: [Int], limits: TensorJSON.Limits = .init()) throws(DMSError) -> Tensor {
        let value = try! JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
        return try TensorJSON.decode(value, spec: .init(name: "x", shape: shape, dataType: type), inputName: "input0 ('x')", limits: limits)
    }

    private func expectRefusal(_ json: String, _ type: DataType, _ shape: [Int], mentioning fragment: String, limits: TensorJSON.Limits = .init()) {
        do {
            _ = try decode(json, type, shape, limits: limits)
            Issue.record("expected \(json) to be refused")
        } catch {
            #expect(error.message.contains(fragment), "\(error.message)")
            #expect(error.message.contains("input0 ('x')"))
        }
    }

    private func text(_ tensor: Tensor) -> String {
        String(decoding: JSONValue.array(TensorJSON.values(of: tensor)).serialized(), as: UTF8.self)
    }

    @Test func readsNestedArraysOfEveryType() throws {
        let floats = try decode("[[1.5, -2], [3, 4e-3]]", .float32, [0, 2])
        #expect(floats.shape == [2, 2] && floats.floats == [1.5, -2, 3, 0.004])
        #expect(text(try decode("[[1, 2.5]]", .float64, [0, 2])) == "[1,2.5]")
        #expect(text(try decode("[[0.5, -1]]", .float16, [0, 2])) == "[0.5,-1]")
        #expect(text(try decode("[[-128, 127]]", .int8, [0, 2])) == "[-128,127]")
        #expect(text(try decode("[[-32768, 32767]]", .int16, [0, 2])) == "[-32768,32767]")
        #expect(text(try decode("[[-2147483648, 2147483647]]", .int32, [0, 2])) == "[-2147483648,2147483647]")
        #expect(text(try decode("[[9007199254740993, -9223372036854775808]]", .int64, [0, 2])) == "[9007199254740993,-9223372036854775808]")
        #expect(text(try decode("[[0, 255]]", .uint8, [0, 2])) == "[0,255]")
        #expect(text(try decode("[[true, false, 1, 0]]", .bool, [0, 4])) == "[true,false,true,false]")
    }

    @Test func addsABatchDimensionToASingleInstance() throws {
        #expect(try decode("[1, 2, 3]", .float32, [0, 3]).shape == [1, 3])
        #expect(try decode("[[1, 2, 3]]", .float32, [0, 3]).shape == [1, 3])
    }

    @Test func refusesBadTensors() {
        expectRefusal("[[1, 2], [3]]", .float32, [0, 2], mentioning: "ragged")
        expectRefusal("[[1, 2], 3]", .float32, [0, 2], mentioning: "ragged")
        expectRefusal("[[[1]], [2]]", .float32, [0, 1, 1], mentioning: "ragged")
        expectRefusal("[[1, \"a\"]]", .float32, [0, 2], mentioning: "not a number")
        expectRefusal("[[1, true]]", .float32, [0, 2], mentioning: "not a number")
        expectRefusal("[[1.5]]", .int32, [0, 1], mentioning: "not an integer")
        expectRefusal("[[300]]", .uint8, [0, 1], mentioning: "out of UINT8's range")
        expectRefusal("[[-129]]", .int8, [0, 1], mentioning: "out of INT8's range")
        expectRefusal("[[1e300]]", .float32, [0, 1], mentioning: "out of FP32's range")
        expectRefusal("[[2]]", .bool, [0, 1], mentioning: "not a boolean")
        expectRefusal("{\"a\": 1}", .float32, [0, 1], mentioning: "not a JSON array")
        expectRefusal("[[[1]]]", .float32, [0, 1], mentioning: "3 dimensions")
        expectRefusal("[[1, 2, 3]]", .float32, [0, 2], mentioning: "expected FP32 values shaped [0, 2]")
    }

    @Test func enforcesLimits() {
        expectRefusal("[[[[1]]]]", .float32, [0, 1, 1, 1], mentioning: "deeper than 3", limits: .init(maxDepth: 3))
        expectRefusal("[[1, 2, 3, 4]]", .float32, [0, 4], mentioning: "limit of 3", limits: .init(maxElements: 3))
        expectRefusal("[[1, 2, 3, 4], 5, 6]", .float32, [0, 4], mentioning: "ragged", limits: .init(maxElements: 5))
    }

    @Test func nonFiniteFloatsRoundTripAsStrings() throws {
        let tensor = try decode("[[\"NaN\", \"Infinity\", \"-Infinity\", 1]]", .float32, [0, 4])
        let encoded = String(decoding: TensorJSON.encode(tensor, name: "y").serialized(), as: UTF8.self)
        #expect(encoded == #"{"name":"y","shape":[1,4],"datatype":"FP32","data":["NaN","Infinity","-Infinity",1]}"#)
        #expect((try? JSONSerialization.jsonObject(with: Data(encoded.utf8))) != nil)
    }
}
