import DMSCore
import Foundation
import Testing

@Suite("JSON serialization")
struct JSONValueTests {
    @Test func keepsKeyOrderAndEscapes() {
        let value = JSONValue.object([
            ("z", .number(1)), ("a", .string("quote \" backslash \\ newline \n tab \t bell \u{07} é")),
            ("list", .array([.bool(true), .null, .number(-2.5)])),
        ])
        let text = String(decoding: value.serialized(), as: UTF8.self)
        #expect(text == #"{"z":1,"a":"quote \" backslash \\ newline \n tab \t bell \u0007 é","list":[true,null,-2.5]}"#)
        #expect((try? JSONSerialization.jsonObject(with: Data(value.serialized()))) != nil)
    }

    @Test func float32ValuesSurviveTheRoundTrip() throws {
        let values: [Float] = [0.1, 1e-7, 3.4028235e38, -1.1754944e-38, 0.42514491081237793, 123456.78]
        let json = JSONValue.array(values.map { .number(Double($0)) }).serialized()
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [Double])
        #expect(parsed.map(Float.init) == values)
    }

    @Test func nonFiniteNumbersBecomeNull() {
        #expect(String(decoding: JSONValue.array([.number(.nan), .number(.infinity)]).serialized(), as: UTF8.self) == "[null,null]")
    }
}
