import DMSCore
import DMSPython
import DMSVision
import Foundation
import Logging

/// What a service is given to serve one loaded model.
public struct ServiceContext: Sendable {
    /// The model's files: its signature, labels (`synset.txt`) and folder.
    public var artifacts: ModelArtifacts
    /// What the engine learned while loading the model (output names, last operation).
    public var predictor: PredictorDescription
    /// Turns uploaded images into input tensors as each input's `preprocess` says, within the
    /// server's `--max-image-pixels`.
    public var imagePreprocessor: ImagePreprocessor

    public init(artifacts: ModelArtifacts, predictor: PredictorDescription, imagePreprocessor: ImagePreprocessor) {
        self.artifacts = artifacts
        self.predictor = predictor
        self.imagePreprocessor = imagePreprocessor
    }
}

/// The services a server binary offers by name: the built-in ones, and those a binary built on
/// this package registers next to them (`ServerCommand.main(services:)`, see
/// `docs/swift-services.md`).
///
/// A model's service is the one `--service` names, else the one its archive's `MANIFEST.json`
/// names, else the default for its signature (`BuiltInServices.defaultService(for:)`). A manifest
/// naming a service this binary does not have is a load error. `--service` may also name a
/// Python file (`my_service.py`): a custom service in the seed's form (`PythonService`).
public struct ServiceCatalog: Sendable {
    /// Builds the service for one model; an `.invalidModel` error when the model does not suit
    /// the service (the message says why).
    public typealias Make = @Sendable (ServiceContext) throws(DMSError) -> any ModelService

    struct Entry: Sendable {
        var name: String
        var aliases: [String]
        var make: Make
    }

    private(set) var entries: [Entry]

    /// The built-in services only.
    public static let builtIn = ServiceCatalog(entries: BuiltInServices.entries)

    /// The catalog the server command line uses; `ServerCommand.main(services:)` sets it.
    @TaskLocal public static var current = ServiceCatalog.builtIn

    /// This catalog with one more service, named `name` (and `aliases`). A name already taken
    /// is a programming error.
    public func registering(_ name: String, aliases: [String] = [], make: @escaping Make) -> ServiceCatalog {
        precondition(([name] + aliases).allSatisfy { canonicalName($0) == nil }, "the service name '\(name)' is taken")
        var catalog = self
        catalog.entries.append(Entry(name: name, aliases: aliases, make: make))
        return catalog
    }

    /// The names of the services, in the order they were registered.
    public var names: [String] { entries.map(\.name) }

    /// The name of the service `name` stands for (itself, an alias, or a seed-era file name
    /// such as `mxnet_vision_service.py`), or nil when this catalog has none.
    public func canonicalName(_ name: String) -> String? {
        let trimmed = name.hasSuffix(".py") ? String(name.dropLast(3)) : name
        return entries.first { $0.name == trimmed || $0.aliases.contains(trimmed) }?.name
    }

    /// Whether `name` is a Python service file rather than a service of this catalog.
    public func isPythonFile(_ name: String) -> Bool {
        canonicalName(name) == nil && name.hasSuffix(".py")
    }

    /// The factory the runtime calls for each loaded model. `python` says how to run Python
    /// services (nil: a Python file is refused). An archive that carries its own Python service
    /// (its `MANIFEST.json` names a `.py` file inside it) is served with it only when
    /// `trustArchiveCode` says the operator allows archives to run their code: an archive
    /// fetched from a URL must not run code nobody approved.
    public func factory(
        maxImagePixels: Int, python: PythonService.Settings? = nil, trustArchiveCode: Bool = false,
        logger: Logger = Logger(label: "deep-model-server")
    ) -> ServiceFactory {
        { [self] (artifacts, description, requested, modelName) async throws(DMSError) -> any ModelService in
            func startPython(_ file: URL) async throws(DMSError) -> any ModelService {
                guard let python else {
                    throw DMSError(.unsupported, "\(file.lastPathComponent): this server runs no Python services (no Python environment was found)")
                }
                return try await PythonService.start(file: file, artifacts: artifacts, modelName: modelName, settings: python, logger: logger)
            }
            if let requested, isPythonFile(requested) {
                return try await startPython(URL(fileURLWithPath: requested))
            }
            if requested == nil, let named = artifacts.manifestService, canonicalName(named) == nil {
                let file = artifacts.directory.appendingPathComponent("\(named).py")
                guard FileManager.default.fileExists(atPath: file.path) else {
                    throw DMSError(
                        .invalidModel,
                        "MANIFEST.json names the service '\(named)', which neither this server (\(names.joined(separator: ", "))) nor the archive has")
                }
                guard trustArchiveCode else {
                    throw DMSError(
                        .invalidModel,
                        "the archive carries its own Python service, \(named).py; archives run their own code only when the server is started with --trust-archive-code")
                }
                return try await startPython(file)
            }
            let chosen = requested.flatMap(canonicalName) ?? artifacts.manifestService.flatMap(canonicalName)
                ?? BuiltInServices.defaultService(for: artifacts.signature)
            guard let entry = entries.first(where: { $0.name == chosen }) else {
                throw DMSError(.internalError, "no service named '\(chosen)'")
            }
            let context = ServiceContext(artifacts: artifacts, predictor: description, imagePreprocessor: ImagePreprocessor(maxPixels: maxImagePixels))
            if chosen != BuiltInServices.vision, artifacts.signature.postprocess.configuresClassification {
                throw DMSError(
                    .invalidModel,
                    "signature.json: postprocess.softmax, top_k and labels shape the top-k classes of \(BuiltInServices.vision), and this model is served by \(chosen)")
            }
            return try entry.make(context)
        }
    }
}
