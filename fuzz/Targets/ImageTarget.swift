import DMSCore
import DMSVision

extension FuzzTarget {
    static let image = FuzzTarget(
        "image",
        "image uploads: JPEG (libjpeg-turbo) and PNG (libpng) decoded, or base64 text, then resized, cropped, normalized and laid out as an image input"
    ) { input in
        let signature = input.choose(FuzzModels.imageSignatures)
        let request = PredictionRequest(parts: [PredictionRequest.Part(name: "input0", bytes: input.rest())])
        guard let prepared = try? FuzzModels.preprocessor.inputs(for: request, signature: signature) else { return }
        prepared.writeEveryInput()
    }
}
