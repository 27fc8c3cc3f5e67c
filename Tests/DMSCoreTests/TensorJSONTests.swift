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

    /// Each type's edges: the extremes are accepted as they are, one past them is a 400 naming
    /// the type's range, whatever form Foundation's parser gives the number (a signed or an
    /// unsigned 64-bit integer, a decimal, a double).
    @Test func refusesValuesBeyondEachTypesRange() throws {
        #expect(text(try decode("[[9223372036854775807, -9223372036854775808]]", .int64, [0, 2])) == "[9223372036854775807,-9223372036854775808]")
        for beyond in ["9223372036854775808", "18446744073709551615", "18446744073709551616", "-9223372036854775809", "1e19", "1e30"] {
            expectRefusal("[[\(beyond)]]", .int64, [0, 1], mentioning: "out of INT64's range")
        }
        let edges: [(DataType, String, String)] = [
            (.int32, "[[-2147483648, 2147483647]]", "2147483648"), (.int32, "[[0]]", "-2147483649"),
            (.int16, "[[-32768, 32767]]", "32768"), (.int16, "[[0]]", "-32769"),
            (.int8, "[[-128, 127]]", "128"), (.int8, "[[0]]", "-129"),
            (.uint8, "[[0, 255]]", "256"), (.uint8, "[[0]]", "-1"),
        ]
        for (type, accepted, beyond) in edges {
            _ = try decode(accepted, type, [0, -1])
            expectRefusal("[[\(beyond)]]", type, [0, 1], mentioning: "out of \(type.rawValue)'s range")
            expectRefusal("[[18446744073709551615]]", type, [0, 1], mentioning: "out of \(type.rawValue)'s range")
        }
        for fraction in ["0.5", "1e-3", "-2.25"] {
            expectRefusal("[[\(fraction)]]", .int64, [0, 1], mentioning: "not an integer")
        }
        #expect(text(try decode("[[65504, -65504, 65519]]", .float16, [0, 3])) == "[65504,-65504,65504]")
        for beyond in ["65520", "-65520", "70000", "1e10"] {
            expectRefusal("[[\(beyond)]]", .float16, [0, 1], mentioning: "out of FP16's range")
        }
        #expect(try decode("[[3.4028234663852886e38, -3.4028234663852886e38]]", .float32, [0, 2]).floats == [.greatestFiniteMagnitude, -.greatestFiniteMagnitude])
        for beyond in ["3.5e38", "-3.5e38", "1e300"] {
            expectRefusal("[[\(beyond)]]", .float32, [0, 1], mentioning: "out of FP32's range")
        }
        #expect(text(try decode("[[1.7976931348623157e308, 5e-324]]", .float64, [0, 2])) == "[1.7976931348623157e+308,5e-324]")
        #expect(text(try decode("[[\"Infinity\", \"-Infinity\"]]", .float16, [0, 2])) == "[\"Infinity\",\"-Infinity\"]")
        for beyond in ["-1", "2", "0.5"] {
            expectRefusal("[[\(beyond)]]", .bool, [0, 1], mentioning: "not a boolean")
        }
    }
}
