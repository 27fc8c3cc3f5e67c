import DMSCore
import Foundation

/// Turns uploaded image bytes into the float tensors an image model takes, as each input's
/// `ImagePreprocessing` says: decode (JPEG or PNG, sniffed), colour order, resize, centre crop,
/// scale and normalization, layout. Without a `preprocess` block that is what the seed's vision
/// service did: RGB or one gray channel, resized to the input's height × width with OpenCV's
/// bicubic rule, NCHW float32 holding 0–255 values.
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
        let preprocessing = spec.preprocess ?? .seed(channels: spec.shape[1], height: spec.shape[2], width: spec.shape[3])
        let size = preprocessing.imageSize(of: spec.shape)
        let bytes = Self.imageBytes(part)
        let inputName = "input\(index) ('\(spec.name)')"
        guard ImageDecoder.looksLikeImage(bytes) else {
            throw DMSError(.invalidInput, "\(inputName): \(ImageDecodingError(.unsupportedFormat).description)")
        }
        let decoder = self.decoder
        return PreparedInputs.Input(dataType: .float32, shape: preprocessing.tensorShape(size)) { slot throws(DMSError) in
            let decoded: PixelImage
            do throws(ImageDecodingError) {
                decoded = try decoder.decode(bytes, mode: preprocessing.color == .gray ? .gray : .rgb)
            } catch {
                throw DMSError(error.isTooLarge ? .payloadTooLarge : .invalidInput, "\(inputName): \(error.description)", cause: error)
            }
            let shaped: PixelImage
            do throws(DMSError) {
                shaped = try preprocessing.shaped(decoded, to: size)
            } catch {
                throw DMSError(error.code, "\(inputName): \(error.message)")
            }
            preprocessing.write(shaped, into: slot.bindMemory(to: Float.self))
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
