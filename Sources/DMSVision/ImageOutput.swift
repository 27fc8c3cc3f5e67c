import DMSCore

/// Reads output tensors as images, for models whose `output_type` is `image/jpeg`.
///
/// Layout: a rank-4 tensor is NCHW when its second dimension is 1 or 3 (channels), else NHWC when
/// its last one is; each item of the batch is one image. Values are pixel intensities on the
/// 0–255 scale the server feeds image models: float values are rounded and clamped to 0–255,
/// UINT8 values are taken as they are.
public enum ImageOutput {
    public static func images(from tensor: Tensor, name: String) throws(DMSError) -> [PixelImage] {
        let shape = tensor.shape
        guard shape.count == 4 else {
            throw DMSError(.internalError, "output '\(name)' has shape \(shape); an image output needs [N, C, H, W] or [N, H, W, C] with 1 or 3 channels")
        }
        let planar = shape[1] == 1 || shape[1] == 3
        guard planar || shape[3] == 1 || shape[3] == 3 else {
            throw DMSError(.internalError, "output '\(name)' has shape \(shape); an image output needs 1 or 3 channels")
        }
        let (batch, channels, height, width) = planar ? (shape[0], shape[1], shape[2], shape[3]) : (shape[0], shape[3], shape[1], shape[2])
        guard batch > 0, height > 0, width > 0 else {
            throw DMSError(.internalError, "output '\(name)' has shape \(shape); an image output needs a positive batch, height and width")
        }
        let values = try intensities(tensor, name: name)
        let perImage = channels * height * width
        return (0..<batch).map { item in
            var pixels = [UInt8](repeating: 0, count: perImage)
            let base = item * perImage
            for y in 0..<height {
                for x in 0..<width {
                    for c in 0..<channels {
                        let source = planar ? base + (c * height + y) * width + x : base + (y * width + x) * channels + c
                        pixels[(y * width + x) * channels + c] = values[source]
                    }
                }
            }
            return PixelImage(width: width, height: height, channels: channels, pixels: pixels)
        }
    }

    private static func intensities(_ tensor: Tensor, name: String) throws(DMSError) -> [UInt8] {
        func clamped(_ value: Double) -> UInt8 {
            value.isNaN ? 0 : UInt8(min(255, max(0, value.rounded(.toNearestOrEven))))
        }
        guard [.uint8, .float32, .float64, .float16].contains(tensor.dataType) else {
            throw DMSError(.internalError, "output '\(name)' is \(tensor.dataType.rawValue); an image output must be a float or UINT8 tensor")
        }
        return tensor.withUnsafeBytes { raw -> [UInt8] in
            let count = tensor.elementCount
            switch tensor.dataType {
            case .float32: return (0..<count).map { clamped(Double(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self))) }
            case .float64: return (0..<count).map { clamped(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self)) }
            case .float16: return (0..<count).map { clamped(Double(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)))) }
            default: return Array(raw)
            }
        }
    }
}
