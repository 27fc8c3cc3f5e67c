import DMSCore

/// The services that come with the server (`ServiceCatalog.builtIn`):
///
/// - `mxnet_vision_service` (alias `vision`): images in, top-5 classes out. The default for
///   `input_type: image/jpeg` with `output_type: application/json`.
/// - `mxnet_model_service` (alias `tensor`): inputs by `input_type`, the outputs as tensors (or
///   JPEG images for `output_type: image/jpeg`). The default for everything else.
public enum BuiltInServices {
    public static let vision = "mxnet_vision_service"
    public static let tensor = "mxnet_model_service"

    /// The service a signature gets when nobody chose one: classification (vision) for image
    /// inputs with JSON outputs, the tensor service for everything else (JSON inputs, image
    /// outputs).
    public static func defaultService(for signature: ModelSignature) -> String {
        signature.inputType == .jpeg && signature.outputType == .json ? vision : tensor
    }

    static let entries: [ServiceCatalog.Entry] = [
        ServiceCatalog.Entry(name: vision, aliases: ["vision"]) { context throws(DMSError) in
            try VisionService(
                signature: context.artifacts.signature, labels: context.artifacts.labels,
                outputActivation: context.predictor.outputActivation, preprocessor: context.imagePreprocessor)
        },
        ServiceCatalog.Entry(name: tensor, aliases: ["tensor"]) { context throws(DMSError) in
            TensorOutputService(signature: context.artifacts.signature, preprocessor: context.imagePreprocessor)
        },
    ]
}
