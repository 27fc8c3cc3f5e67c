/// How an image input becomes the tensor its model takes: the `preprocess` block of an input in
/// `signature.json`.
///
/// ```json
/// "preprocess": {"color": "BGR", "resize": {"shorter_side": 256}, "center_crop": {"height": 224, "width": 224},
///                "interpolation": "bilinear", "scale": 0.00392156862745098,
///                "mean": [0.406, 0.456, 0.485], "std": [0.225, 0.224, 0.229], "layout": "NCHW"}
/// ```
///
/// The steps run in this order: decode; colour order; resize; centre crop; then each value
/// becomes `(pixel × scale − mean[c]) / std[c]` in float32, laid out as `layout`. Every field is
/// optional; without a block (or with an empty one) an input is preprocessed as the seed did:
/// RGB (gray for one channel), resized to the input's height × width with OpenCV's bicubic rule,
/// values 0–255, NCHW.
public struct ImagePreprocessing: Sendable, Equatable {
    /// The channels the model takes, in order.
    public enum ColorOrder: String, Sendable, CaseIterable {
        case rgb = "RGB"
        case bgr = "BGR"
        case gray
    }

    /// How the decoded image is resized.
    public enum Resize: Sendable, Equatable {
        /// To exactly `height` × `width`, whatever the image's aspect.
        case exact(height: Int, width: Int)
        /// The shorter side to `length`, the longer in proportion (rounded down), as
        /// `mx.image.resize_short` and torchvision's `Resize(n)` do.
        case shorterSide(Int)
        /// Not resized (a centre crop is taken from the decoded image).
        case none
    }

    /// The resampling rule of the resize, OpenCV's for 8-bit images.
    public enum Interpolation: String, Sendable, CaseIterable {
        /// `INTER_CUBIC`, bit for bit as MXNet 1.9.1's `imresize(…, 2)`: the seed's.
        case bicubic
        /// `INTER_LINEAR`.
        case bilinear
        /// `INTER_AREA`: the average of the source pixels each output pixel covers.
        case area
    }

    /// Where the channel dimension is.
    public enum Layout: String, Sendable, CaseIterable {
        case nchw = "NCHW"
        case nhwc = "NHWC"

        /// The channel count a 4-dimensional input shape (batch first) declares in this layout.
        func channels(of shape: [Int]) -> Int { self == .nchw ? shape[1] : shape[3] }

        /// The image height and width a 4-dimensional input shape declares in this layout.
        func imageSize(of shape: [Int]) -> Size {
            self == .nchw ? Size(height: shape[2], width: shape[3]) : Size(height: shape[1], width: shape[2])
        }
    }

    /// A size in pixels.
    public struct Size: Sendable, Equatable {
        public var height: Int
        public var width: Int

        public init(height: Int, width: Int) {
            self.height = height
            self.width = width
        }
    }

    public var color: ColorOrder
    public var resize: Resize
    /// The centre crop taken after the resize, if any: the window whose top left corner is at
    /// `((h − height) / 2, (w − width) / 2)` rounded down, as `mx.image.center_crop`.
    public var centerCrop: Size?
    public var interpolation: Interpolation
    public var scale: Float
    /// One value per channel, in the model's channel order (after `color`).
    public var mean: [Float]
    /// One value per channel, each positive.
    public var std: [Float]
    public var layout: Layout

    public init(
        color: ColorOrder, resize: Resize, centerCrop: Size? = nil, interpolation: Interpolation = .bicubic, scale: Float = 1,
        mean: [Float]? = nil, std: [Float]? = nil, layout: Layout = .nchw
    ) {
        let channels = color == .gray ? 1 : 3
        self.color = color
        self.resize = resize
        self.centerCrop = centerCrop
        self.interpolation = interpolation
        self.scale = scale
        self.mean = mean ?? Array(repeating: 0, count: channels)
        self.std = std ?? Array(repeating: 1, count: channels)
        self.layout = layout
    }

    /// The seed's preprocessing for an input of `channels` × `height` × `width`.
    public static func seed(channels: Int, height: Int, width: Int) -> ImagePreprocessing {
        ImagePreprocessing(color: channels == 1 ? .gray : .rgb, resize: .exact(height: height, width: width))
    }

    /// Channels per pixel: 1 for gray, 3 for colour.
    public var channels: Int { color == .gray ? 1 : 3 }

    /// Whether values are written as they are (scale 1, mean 0, std 1), as the seed did.
    public var keepsPixelValues: Bool {
        scale == 1 && mean.allSatisfy { $0 == 0 } && std.allSatisfy { $0 == 1 }
    }

    /// The image's height and width as the model takes it, given the input's shape (batch first).
    public func imageSize(of shape: [Int]) -> Size {
        layout.imageSize(of: shape)
    }

    /// The shape of one image's tensor (batch 1) for an output image of `size`.
    public func tensorShape(_ size: Size) -> [Int] {
        layout == .nchw ? [1, channels, size.height, size.width] : [1, size.height, size.width, channels]
    }
}

extension ImagePreprocessing {
    static let fields = ["color", "resize", "center_crop", "interpolation", "scale", "mean", "std", "layout"]

    /// Reads the `preprocess` block of the image input at `inputPath` (`signature.json:
    /// inputs[0]`; nil: the seed's defaults) and checks it against the input's shape: the
    /// channels the colour order gives, and an image size after resize and crop that is the
    /// input's height and width.
    static func parse(_ value: Any?, shape: [Int], inputPath: String) throws(DMSError) -> ImagePreprocessing {
        let path = "\(inputPath).preprocess"
        let block = try SignatureObject(value ?? [String: Any](), path: path)
        try block.refuseUnknownMembers(fields)
        let layout = try block.choice("layout", from: Layout.allCases.map(\.rawValue)).flatMap(Layout.init) ?? .nchw
        let shapePath = "\(inputPath).data_shape"
        guard shape.count == 4 else {
            throw DMSError(
                .invalidModel,
                "\(shapePath) must be \(layout == .nchw ? "[batch, channels, height, width]" : "[batch, height, width, channels] (layout NHWC)") for image/jpeg inputs, got \(shape)")
        }
        let declaredChannels = layout.channels(of: shape)
        let declaredSize = layout.imageSize(of: shape)
        guard declaredChannels == 1 || declaredChannels == 3 else {
            throw DMSError(.invalidModel, "\(shapePath) must have 1 or 3 channels for image/jpeg inputs, got \(declaredChannels) (layout \(layout.rawValue))")
        }
        guard declaredSize.height > 0, declaredSize.width > 0 else {
            throw DMSError(.invalidModel, "\(shapePath) must give a positive height and width for image/jpeg inputs (the server resizes to them), got \(shape)")
        }
        let color = try block.choice("color", from: ColorOrder.allCases.map(\.rawValue)).flatMap(ColorOrder.init) ?? (declaredChannels == 1 ? .gray : .rgb)
        guard (color == .gray ? 1 : 3) == declaredChannels else {
            throw DMSError(.invalidModel, "\(path).color \"\(color.rawValue)\" gives \(color == .gray ? 1 : 3) channel(s); data_shape \(shape) has \(declaredChannels)")
        }
        let centerCrop = try block.object("center_crop").map { crop throws(DMSError) in try size(crop) }
        let resize = try parseResize(block, default: centerCrop == nil ? .exact(height: declaredSize.height, width: declaredSize.width) : .none)
        try checkGeometry(resize: resize, crop: centerCrop, declared: declaredSize, shape: shape, path: path)
        let channels = declaredChannels
        func perChannel(_ key: String, positive: Bool) throws(DMSError) -> [Float]? {
            guard let values = try block.numbers(key) else { return nil }
            guard values.count == channels || values.count == 1 else {
                throw DMSError(.invalidModel, "\(path).\(key) needs one value per channel (\(channels)) or one for all, got \(values.count)")
            }
            if positive, let bad = values.first(where: { !($0 > 0) }) {
                throw DMSError(.invalidModel, "\(path).\(key) values must be positive, got \(bad)")
            }
            let floats = values.map { Float($0) }
            return floats.count == 1 ? Array(repeating: floats[0], count: channels) : floats
        }
        let scale = try block.number("scale").map { Float($0) } ?? 1
        guard scale.isFinite else { throw DMSError(.invalidModel, "\(path).scale is beyond float32's range") }
        return ImagePreprocessing(
            color: color, resize: resize, centerCrop: centerCrop,
            interpolation: try block.choice("interpolation", from: Interpolation.allCases.map(\.rawValue)).flatMap(Interpolation.init) ?? .bicubic,
            scale: scale, mean: try perChannel("mean", positive: false), std: try perChannel("std", positive: true), layout: layout)
    }

    private static func size(_ object: SignatureObject) throws(DMSError) -> Size {
        try object.refuseUnknownMembers(["height", "width"])
        guard let height = try object.positiveInteger("height"), let width = try object.positiveInteger("width") else {
            throw DMSError(.invalidModel, "\(object.path) needs both \"height\" and \"width\"")
        }
        return Size(height: height, width: width)
    }

    private static func parseResize(_ block: SignatureObject, default fallback: Resize) throws(DMSError) -> Resize {
        guard let resize = try block.object("resize") else { return fallback }
        if resize.has("shorter_side") {
            try resize.refuseUnknownMembers(["shorter_side"])
            return .shorterSide(try resize.positiveInteger("shorter_side")!)
        }
        guard resize.has("height") || resize.has("width") else {
            throw DMSError(.invalidModel, "\(resize.path) must be {\"height\": H, \"width\": W} or {\"shorter_side\": N}")
        }
        let exact = try size(resize)
        return .exact(height: exact.height, width: exact.width)
    }

    /// The image after resize and crop must be the input's size, and a crop must fit.
    private static func checkGeometry(resize: Resize, crop: Size?, declared: Size, shape: [Int], path: String) throws(DMSError) {
        let final: Size?
        switch (resize, crop) {
        case (.exact(let height, let width), nil):
            final = Size(height: height, width: width)
        case (.exact(let height, let width), let crop?):
            guard crop.height <= height, crop.width <= width else {
                throw DMSError(.invalidModel, "\(path).center_crop \(crop.height)×\(crop.width) is larger than the resized image \(height)×\(width)")
            }
            final = crop
        case (.shorterSide(let length), let crop?):
            guard crop.height <= length, crop.width <= length else {
                throw DMSError(.invalidModel, "\(path).center_crop \(crop.height)×\(crop.width) does not fit an image whose shorter side is resized to \(length)")
            }
            final = crop
        case (.shorterSide, nil):
            throw DMSError(.invalidModel, "\(path).resize {\"shorter_side\": …} keeps the image's aspect, so the size varies: add a center_crop of the input's height and width")
        case (.none, let crop):
            final = crop
        }
        guard let final, final == declared else {
            throw DMSError(
                .invalidModel,
                "\(path): resize and center_crop give \(final.map { "\($0.height)×\($0.width)" } ?? "the image's own size"), but data_shape \(shape) takes \(declared.height)×\(declared.width)")
        }
    }
}
