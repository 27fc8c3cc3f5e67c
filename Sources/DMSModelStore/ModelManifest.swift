import DMSCore
import Foundation

/// The parts of an archive's `MANIFEST.json` the server uses: the model's format and the file
/// names of its pieces, its signature file, and the service the archive asks for.
///
/// Seed-era archives write `{"Model": {"Symbol": …, "Parameters": …, "Signature": …,
/// "Service": "mxnet_vision_service.py", …}, …}`; `deep-model-export` adds `Model Format` and
/// the keys of its format's files (`ModelFormat.fileRoles`). The service name is kept without
/// `.py`.
package struct ModelManifest {
    var modelFormat: String?
    var signatureFile: String?
    var serviceName: String?
    /// The `Model` object, whose keys name the model's files by role.
    private var model: [String: Any]

    init(contentsOf url: URL) throws(DMSError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DMSError(.invalidModel, "MANIFEST.json cannot be read (\(error.localizedDescription))", cause: error)
        }
        try self.init(data: data)
    }

    package init(data: Data) throws(DMSError) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw DMSError(.invalidModel, "MANIFEST.json: not valid JSON (\(error.localizedDescription))", cause: error)
        }
        guard let root = object as? [String: Any] else {
            throw DMSError(.invalidModel, "MANIFEST.json: the top level must be a JSON object")
        }
        model = root["Model"] as? [String: Any] ?? [:]
        if let format = model["Model Format"] {
            guard let format = format as? String, !format.isEmpty else {
                throw DMSError(.invalidModel, "MANIFEST.json: Model.Model Format must be a format name")
            }
            modelFormat = format
        }
        signatureFile = try Self.fileName(model["Signature"], field: "Model.Signature")
        if let service = try Self.fileName(model["Service"], field: "Model.Service") {
            serviceName = service.hasSuffix(".py") ? String(service.dropLast(3)) : service
        }
    }

    /// The file names the manifest gives for `roles` (a format's `fileRoles`), by role.
    package func fileNames(forRoles roles: [String]) throws(DMSError) -> [String: String] {
        var names: [String: String] = [:]
        for role in roles {
            if let name = try Self.fileName(model[role], field: "Model.\(role)") { names[role] = name }
        }
        return names
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
