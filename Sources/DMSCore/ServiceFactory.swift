/// Builds the service that pre- and post-processes requests for one loaded model.
///
/// The server app supplies it, so the runtime needs to know no service: it passes the model's
/// artifacts, what the engine learned while loading, the service the user asked for with
/// `--service` (or nil for the default by the signature's `input_type`) and the model's name.
/// Async: a service may start processes of its own (Python workers) before it is ready.
public typealias ServiceFactory = @Sendable (
    _ artifacts: ModelArtifacts, _ description: PredictorDescription, _ requestedService: String?, _ modelName: String
) async throws(DMSError) -> any ModelService
