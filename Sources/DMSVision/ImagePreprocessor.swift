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

    /// One `[1, C, H, W]` tensor per signature input, from the request's parts.
    public func tensors(for request: PredictionRequest, signature: ModelSignature) throws(DMSError) -> [Tensor] {
        let parts = try request.partsInSignatureOrder(signature)
        var tensors: [Tensor] = []
        for (index, (part, spec)) in zip(parts, signature.inputs).enumerated() {
            tensors.append(try tensor(from: part, spec: spec, index: index))
        }
        return tensors
    }

    private func tensor(from part: PredictionRequest.Part, spec: ModelSignature.TensorSpec, index: Int) throws(DMSError) -> Tensor {
        let channels = spec.shape[1], height = spec.shape[2], width = spec.shape[3]
        let bytes = Self.imageBytes(part)
        let decoded: PixelImage
        do {
            decoded = try decoder.decode(bytes, mode: channels == 1 ? .gray : .rgb)
        } catch {
            throw DMSError(error.isTooLarge ? .payloadTooLarge : .invalidInput, "input\(index) ('\(spec.name)'): \(error.description)", cause: error)
        }
        let resized = BicubicResizer.resize(decoded, width: width, height: height)
        return Tensor(shape: [1, channels, height, width]) { buffer in
            resized.writeCHW(into: buffer)
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
