import DMSCore
import Foundation

/// The parts of an archive's `MANIFEST.json` the server uses: the file names of the model's
/// pieces and the service the archive asks for.
///
/// Seed-era archives write `{"Model": {"Symbol": …, "Parameters": …, "Signature": …,
/// "Service": "mxnet_vision_service.py", …}, …}`; the service name is kept without `.py`.
struct ModelManifest {
    var symbolFile: String?
    var parametersFile: String?
    var signatureFile: String?
    /// The one file of a single-file model format (ONNX), written by `deep-model-export` as
    /// `Model.Model File`.
    var modelFile: String?
    var serviceName: String?

    init(contentsOf url: URL) throws(DMSError) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        } catch {
            throw DMSError(.invalidModel, "MANIFEST.json: not valid JSON (\(error.localizedDescription))", cause: error)
        }
        guard let root = object as? [String: Any] else {
            throw DMSError(.invalidModel, "MANIFEST.json: the top level must be a JSON object")
        }
        let model = root["Model"] as? [String: Any] ?? [:]
        symbolFile = try Self.fileName(model["Symbol"], field: "Model.Symbol")
        parametersFile = try Self.fileName(model["Parameters"], field: "Model.Parameters")
        signatureFile = try Self.fileName(model["Signature"], field: "Model.Signature")
        modelFile = try Self.fileName(model["Model File"], field: "Model.Model File")
        if let service = try Self.fileName(model["Service"], field: "Model.Service") {
            serviceName = service.hasSuffix(".py") ? String(service.dropLast(3)) : service
        }
    }

    /// A plain file name inside the archive; anything with a path separator is refused so a
    /// manifest cannot point outside the model folder.
    private static func fileName(_ value: Any?, field: String) throws(DMSError) -> String? {
        guard let value else { return nil }
        guard let name = value as? String, !name.isEmpty, !name.contains("/"), !name.contains("\\"), name != "..", name != "." else {
            throw DMSError(.invalidModel, "MANIFEST.json: \(field) must be a file name in the archive")
        }
        return name
    }
}
