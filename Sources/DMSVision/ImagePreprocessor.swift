import DMSCore
import Foundation

/// Turns uploaded image bytes into the float tensors an image model takes, as the seed's vision
/// service did: decode (JPEG or PNG, sniffed), to RGB or one gray channel by the input's channel
/// count, resize to the input's height × width with OpenCV's bicubic rule, NCHW float32 holding
/// 0–255 values.
public struct ImagePreprocessor: Sendable {
    public var decoder: ImageDecoder

    public init(maxPixels: Int) {
        self.decoder = ImageDecoder(maxPixels: maxPixels)
    }

    /// One `[1, C, H, W]` input per signature input, from the request's parts. Parts that are
    /// not JPEG or PNG are refused here; decoding and resizing wait until a worker writes the
    /// image into its slot of the batch.
    public func inputs(for request: PredictionRequest, signature: ModelSignature) throws(DMSError) -> PreparedInputs {
        let parts = try request.partsInSignatureOrder(signature)
        var inputs: [PreparedInputs.Input] = []
        for (index, (part, spec)) in zip(parts, signature.inputs).enumerated() {
            inputs.append(try input(from: part, spec: spec, index: index))
        }
        return PreparedInputs(inputs)
    }

    private func input(from part: PredictionRequest.Part, spec: ModelSignature.TensorSpec, index: Int) throws(DMSError) -> PreparedInputs.Input {
        let channels = spec.shape[1], height = spec.shape[2], width = spec.shape[3]
        let bytes = Self.imageBytes(part)
        let inputName = "input\(index) ('\(spec.name)')"
        guard ImageDecoder.looksLikeImage(bytes) else {
            throw DMSError(.invalidInput, "\(inputName): \(ImageDecodingError(.unsupportedFormat).description)")
        }
        let decoder = self.decoder
        return PreparedInputs.Input(dataType: .float32, shape: [1, channels, height, width]) { slot throws(DMSError) in
            let decoded: PixelImage
            do throws(ImageDecodingError) {
                decoded = try decoder.decode(bytes, mode: channels == 1 ? .gray : .rgb)
            } catch {
                throw DMSError(error.isTooLarge ? .payloadTooLarge : .invalidInput, "\(inputName): \(error.description)", cause: error)
            }
            BicubicResizer.resize(decoded, width: width, height: height).writeCHW(into: slot.bindMemory(to: Float.self))
        }
    }

    /// The image bytes of a part: the part itself when it looks like an image file, else its
    /// text decoded as base64 (a `data:` URI prefix is allowed), so clients can send images as
    /// text fields too.
    static func imageBytes(_ part: PredictionRequest.Part) -> [UInt8] {
        if ImageDecoder.looksLikeImage(part.bytes) { return part.bytes }
        var text = String(decoding: part.bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("data:"), let comma = text.firstIndex(of: ",") {
            text = String(text[text.index(after: comma)...])
        }
        text.removeAll { $0.isWhitespace }
        guard let data = Data(base64Encoded: text) else { return part.bytes }
        return [UInt8](data)
    }
}
