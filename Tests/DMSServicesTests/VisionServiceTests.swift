import DMSCore
import Foundation
import Testing

import DMSVision

@testable import DMSServices

@Suite("vision service responses")
struct VisionServiceTests {
    private let signature = try! ModelSignature(
        inputs: [.init(name: "data", shape: [0, 1, 2, 2])], inputType: .jpeg,
        outputs: [.init(name: "scores", shape: [0, 6])], outputType: .json)

    private func topClasses(_ response: PredictionResponse) -> [[(String, Double)]] {
        guard case .json(.object(let root)) = response, case .array(let rows) = root[0].value else { return [] }
        return rows.map { row in
            guard case .array(let entries) = row else { return [] }
            return entries.map { entry in
                guard case .object(let fields) = entry, case .string(let label) = fields[0].value, case .number(let p) = fields[1].value else {
                    return ("", .nan)
                }
                return (label, p)
            }
        }
    }

    @Test func reportsSoftmaxOutputsAsTheyAreWithLabels() throws {
        let service = try VisionService(
            signature: signature, labels: ["a", "b", "c", "d", "e", "f"], outputActivation: .softmax,
            preprocessor: ImagePreprocessor(maxPixels: 100))
        let rows = topClasses(try service.postprocess([Tensor(shape: [1, 6], floats: [0.05, 0.4, 0.1, 0.3, 0.1, 0.05])], for: PredictionRequest(parts: [])))
        #expect(rows.count == 1)
        #expect(rows[0].map(\.0) == ["b", "d", "c", "e", "a"])
        #expect(rows[0][0].1 == Double(Float(0.4)))
    }

    @Test func appliesSoftmaxToRawScoresAndUsesIndicesWithoutLabels() throws {
        let service = try VisionService(signature: signature, labels: nil, outputActivation: .none, preprocessor: ImagePreprocessor(maxPixels: 100))
        let logits: [Float] = [1, 2, 3, 4, 5, 6, 6, 5, 4, 3, 2, 1]
        let rows = topClasses(try service.postprocess([Tensor(shape: [2, 6], floats: logits)], for: PredictionRequest(parts: [])))
        #expect(rows.count == 2)
        #expect(rows[0].map(\.0) == ["5", "4", "3", "2", "1"])
        #expect(rows[1].map(\.0) == ["0", "1", "2", "3", "4"])
        // The softmax of 1…6 worked out here in double precision, independently of the code under
        // test: p(k) = e^k / (e^1 + … + e^6).
        let denominator = (1...6).map { exp(Double($0)) }.reduce(0, +)
        let expectedTop = [6, 5, 4, 3, 2].map { exp(Double($0)) / denominator }
        #expect(abs(expectedTop[0] - 0.6336913226) < 1e-9)
        for row in rows {
            for (reported, expected) in zip(row.map(\.1), expectedTop) {
                #expect(abs(reported - expected) < 1e-6, "\(reported) vs \(expected)")
            }
        }
    }

    @Test func refusesModelsWhoseInputsAreNotImages() throws {
        let jsonSignature = try ModelSignature(
            inputs: [.init(name: "x", shape: [0, 4])], inputType: .json, outputs: [.init(name: "y", shape: [0, 2])], outputType: .json)
        #expect(throws: DMSError.self) {
            try VisionService(signature: jsonSignature, labels: nil, outputActivation: .none, preprocessor: ImagePreprocessor(maxPixels: 100))
        }
    }
}

@Suite("probabilities when the engine cannot tell")
struct UndeterminedActivationTests {
    @Test func distributionsAreKeptAndScoresGetASoftmax() {
        #expect(VisionService.isProbabilities([0.2, 0.5, 0.3], softmax: .automatic, activation: .undetermined))
        #expect(!VisionService.isProbabilities([2, 5, 3], softmax: .automatic, activation: .undetermined))
        #expect(!VisionService.isProbabilities([0.2, 0.2, 0.2], softmax: .automatic, activation: .undetermined))
        #expect(!VisionService.isProbabilities([-0.5, 1, 0.5], softmax: .automatic, activation: .undetermined))
        #expect(VisionService.isProbabilities([2, 5, 3], softmax: .automatic, activation: .softmax))
        #expect(!VisionService.isProbabilities([0.2, 0.5, 0.3], softmax: .automatic, activation: .none))
    }

    @Test func theSignatureCanForceTheSoftmaxEitherWay() {
        #expect(VisionService.isProbabilities([2, 5, 3], softmax: .never, activation: .none))
        #expect(!VisionService.isProbabilities([0.2, 0.5, 0.3], softmax: .always, activation: .softmax))
    }
}
