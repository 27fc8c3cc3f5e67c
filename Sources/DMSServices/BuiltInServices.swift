import DMSCore
import DMSVision

/// The services that come with the server, chosen by `--service`, the archive's manifest, or
/// the signature's `input_type`, in that order.
///
/// - `mxnet_vision_service` (alias `vision`): images in, top-5 classes out. The default for
///   `input_type: image/jpeg` with `output_type: application/json`.
/// - `mxnet_model_service` (alias `tensor`): inputs by `input_type`, the outputs as tensors (or
///   JPEG images for `output_type: image/jpeg`). The default for everything else.
public enum BuiltInServices {
    public static let vision = "mxnet_vision_service"
    public static let tensor = "mxnet_model_service"
    static let aliases = ["vision": vision, "tensor": tensor]

    /// The canonical name of a built-in service, or nil for an unknown name.
    public static func canonicalName(_ name: String) -> String? {
        let trimmed = name.hasSuffix(".py") ? String(name.dropLast(3)) : name
        if trimmed == vision || trimmed == tensor { return trimmed }
        return aliases[trimmed]
    }

    /// The service a signature gets when nobody chose one: classification (vision) for image
    /// inputs with JSON outputs, the tensor service for everything else (JSON inputs, image
    /// outputs).
    public static func defaultService(for signature: ModelSignature) -> String {
        signature.inputType == .jpeg && signature.outputType == .json ? vision : tensor
    }

    /// The factory the runtime calls for each loaded model.
    public static func factory(maxImagePixels: Int) -> ServiceFactory {
        { (artifacts, description, requested) throws(DMSError) -> any ModelService in
            let chosen = requested.flatMap(canonicalName)
                ?? artifacts.manifestService.flatMap(canonicalName)
                ?? defaultService(for: artifacts.signature)
            let preprocessor = ImagePreprocessor(maxPixels: maxImagePixels)
            if chosen != vision, artifacts.signature.postprocess.configuresClassification {
                throw DMSError(
                    .invalidModel,
                    "signature.json: postprocess.softmax, top_k and labels shape the top-k classes of \(vision), and this model is served by \(chosen)")
            }
            if chosen == vision {
                return try VisionService(
                    signature: artifacts.signature, labels: artifacts.labels,
                    outputActivation: description.outputActivation, preprocessor: preprocessor)
            }
            return TensorOutputService(signature: artifacts.signature, preprocessor: preprocessor)
        }
    }
}
