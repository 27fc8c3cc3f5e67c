import DMSCore
import Testing

@testable import DMSHTTP

/// The schemas `GET /openapi.json` gives JSON tensors: what they say must be what
/// `TensorJSON` accepts.
@Suite("OpenAPI document")
struct OpenAPIDocumentTests {
    private func members(_ value: JSONValue) -> [String: JSONValue] {
        guard case .object(let pairs) = value else { return [:] }
        return Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    private func number(_ value: JSONValue?) -> Double? {
        switch value {
        case .number(let number): number
        case .integer(let integer): Double(integer)
        default: nil
        }
    }

    /// The exclusive bound is the first value that rounds to infinity in the type: everything
    /// below it is in range, it is not.
    @Test func floatBoundsAreWhereValuesRoundToInfinity() {
        let fp32 = number(members(OpenAPIDocument.elementSchema(.float32, output: false))["exclusiveMaximum"])!
        #expect(Float(fp32).isInfinite)
        #expect(Float(fp32.nextDown) == .greatestFiniteMagnitude)
        let fp16 = number(members(OpenAPIDocument.elementSchema(.float16, output: false))["exclusiveMaximum"])!
        #expect(Float16(fp16).isInfinite)
        #expect(Float16(fp16.nextDown) == .greatestFiniteMagnitude)
        #expect(members(OpenAPIDocument.elementSchema(.float64, output: false)) == ["type": "number"])
    }

    @Test func integerTypesHaveTheirRanges() {
        let uint8 = members(OpenAPIDocument.elementSchema(.uint8, output: false))
        #expect(uint8["type"] == "integer" && number(uint8["minimum"]) == 0 && number(uint8["maximum"]) == 255)
        let int64 = members(OpenAPIDocument.elementSchema(.int64, output: false))
        #expect(int64["minimum"] == .integer(.min) && int64["maximum"] == .integer(.max))
    }

    @Test func floatOutputsMayBeNonFiniteStrings() {
        guard case .array(let choices)? = members(OpenAPIDocument.elementSchema(.float32, output: true))["anyOf"] else {
            Issue.record("expected anyOf")
            return
        }
        #expect(choices.last == .object([("enum", .array(["NaN", "Infinity", "-Infinity"]))]))
    }

    /// A dynamic batch gives two forms (a batch, or one instance); a fixed batch of 2 only the
    /// batch, since one instance would be a batch of 1.
    @Test func inputsAreNestedArraysOfTheSignaturesShape() {
        let dynamic = members(OpenAPIDocument.inputTensorSchema(.init(name: "x", shape: [0, 3], dataType: .int32)))
        guard case .array(let forms)? = dynamic["anyOf"], forms.count == 2 else {
            Issue.record("expected two forms, got \(dynamic)")
            return
        }
        let batch = members(forms[0]), single = members(forms[1])
        #expect(number(batch["minItems"]) == 1 && batch["maxItems"] == nil)
        #expect(number(members(batch["items"]!)["maxItems"]) == 3)
        #expect(number(single["minItems"]) == 3 && number(single["maxItems"]) == 3)
        let fixed = members(OpenAPIDocument.inputTensorSchema(.init(name: "x", shape: [2, 3])))
        #expect(fixed["anyOf"] == nil && number(fixed["minItems"]) == 2 && number(fixed["maxItems"]) == 2)
    }
}
