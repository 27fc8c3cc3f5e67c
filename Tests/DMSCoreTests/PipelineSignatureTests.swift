import DMSCore
import Foundation
import Testing

/// The `preprocess` and `postprocess` blocks of `signature.json`.
@Suite("signature.json pipeline blocks")
struct PipelineSignatureTests {
    private func signature(input: String = #"{"data_name": "data", "data_shape": [0, 3, 224, 224]}"#, extra: String = "") throws(DMSError) -> ModelSignature {
        let json = #"{"inputs": [\#(input)], "input_type": "image/jpeg", "outputs": [{"data_name": "scores", "data_shape": [0, 10]}, {"data_name": "features", "data_shape": [0, 4]}], "output_type": "application/json"\#(extra)}"#
        return try ModelSignature(json: Data(json.utf8))
    }

    @Test func withoutBlocksEveryImageInputGetsTheSeedsSteps() throws {
        let parsed = try signature()
        #expect(parsed.inputs[0].preprocess == .seed(channels: 3, height: 224, width: 224))
        #expect(parsed.inputs[0].preprocess?.keepsPixelValues == true)
        #expect(parsed.postprocess == OutputPostprocessing())
    }

    @Test func readsEveryPreprocessField() throws {
        let parsed = try signature(input: #"""
            {"data_name": "data", "data_shape": [0, 224, 224, 3], "preprocess": {"color": "BGR", "resize": {"shorter_side": 256},
             "center_crop": {"height": 224, "width": 224}, "interpolation": "area", "scale": 0.5, "mean": [1, 2, 3], "std": [4], "layout": "NHWC"}}
            """#)
        let expected = ImagePreprocessing(
            color: .bgr, resize: .shorterSide(256), centerCrop: .init(height: 224, width: 224), interpolation: .area, scale: 0.5,
            mean: [1, 2, 3], std: [4, 4, 4], layout: .nhwc)
        #expect(parsed.inputs[0].preprocess == expected)
        #expect(expected.tensorShape(.init(height: 224, width: 224)) == [1, 224, 224, 3])
    }

    @Test func readsThePostprocessBlock() throws {
        let parsed = try signature(extra: #", "postprocess": {"softmax": false, "top_k": 3, "labels": ["a", "b"], "outputs": ["features"]}"#)
        #expect(parsed.postprocess == OutputPostprocessing(softmax: .never, topK: 3, labels: ["a", "b"], outputs: ["features"]))
        #expect(try signature(extra: #", "postprocess": {"softmax": "auto"}"#).postprocess.softmax == .automatic)
        #expect(try signature(extra: #", "postprocess": {"softmax": true}"#).postprocess.softmax == .always)
    }

    @Test func blocksInTheWrongPlaceAreRefused() {
        #expect { try signature(extra: #", "postprocess": {"outputs": ["scores", "scores"]}"#) } throws: {
            ($0 as? DMSError)?.message.contains("lists an output twice") == true
        }
        let jsonInput = #"{"inputs": [{"data_name": "x", "data_shape": [0, 4], "preprocess": {}}], "input_type": "application/json", "outputs": [{"data_name": "y", "data_shape": [0, 1]}], "output_type": "application/json"}"#
        #expect { try ModelSignature(json: Data(jsonInput.utf8)) } throws: {
            ($0 as? DMSError)?.message.contains("inputs[0].preprocess applies to image inputs") == true
        }
        let onOutput = #"{"inputs": [{"data_name": "x", "data_shape": [0, 3, 2, 2]}], "input_type": "image/jpeg", "outputs": [{"data_name": "y", "data_shape": [0, 1], "preprocess": {}}], "output_type": "application/json"}"#
        #expect { try ModelSignature(json: Data(onOutput.utf8)) } throws: {
            ($0 as? DMSError)?.message.contains("outputs[0].preprocess: preprocess applies to inputs") == true
        }
    }

    @Test func aCropThatFitsTheShorterSideIsAccepted() throws {
        let parsed = try signature(input: #"{"data_name": "d", "data_shape": [0, 1, 5, 7], "preprocess": {"resize": {"shorter_side": 7}, "center_crop": {"height": 5, "width": 7}}}"#)
        #expect(parsed.inputs[0].preprocess?.color == .gray)
        #expect { try signature(input: #"{"data_name": "d", "data_shape": [0, 1, 5, 7], "preprocess": {"resize": {"shorter_side": 6}, "center_crop": {"height": 5, "width": 7}}}"#) } throws: {
            ($0 as? DMSError)?.message.contains("does not fit an image whose shorter side is resized to 6") == true
        }
    }
}
