import Foundation

/// How an engine recognises the files of its models, without its library: which files of a
/// model folder hold the network and its weights, and what `MANIFEST.json` calls them.
///
/// Each engine owns its format (`InferenceEngine.format`), so the model store, the server and
/// `deep-model-export` handle any engine's models without knowing the engine: a new engine is
/// its own module and one line in the server's list of engines.
public protocol ModelFormat: Sendable {
    /// The name `MANIFEST.json` records under `Model.Model Format`, for example "ONNX".
    var name: String { get }
    /// The roles of the format's files, in the order a manifest lists them; each is also the key
    /// under `Model` in `MANIFEST.json` that names the file.
    var fileRoles: [String] { get }
    /// What a folder of this format holds, for errors that list what the server reads, for
    /// example "one NAME.onnx (ONNX Runtime)".
    var expectedFiles: String { get }
    /// Whether models of this format describe their own inputs and outputs, so they may come
    /// without `signature.json` (the engine's `signature(of:)` reads them).
    var describesItself: Bool { get }
    /// The extension (lowercase, no dot) of a file that is a whole model on its own and may be
    /// served without an archive, or nil when the format has none.
    var singleFileExtension: String? { get }

    /// This format's files in `folder`, whose file names are `names`: nil when nothing there
    /// belongs to this format; an `.invalidModel` error naming the problem when some files do
    /// but do not make a model (two weight files, a missing graph). `manifestNames` are the
    /// file names the archive's `MANIFEST.json` gives for this format's roles.
    func locate(in folder: URL, names: [String], manifestNames: [String: String]) throws(DMSError) -> ModelArtifacts.EngineFiles?
}

extension ModelFormat {
    public var describesItself: Bool { false }
    public var singleFileExtension: String? { nil }

    /// The one name in `names` ending in `suffix`, or an `.invalidModel` error saying that there
    /// is none or that there are several (`what` names the file's purpose: "symbol").
    public func singleName(in names: [String], suffix: String, what: String) throws(DMSError) -> String {
        let matches = names.filter { $0.hasSuffix(suffix) }
        guard matches.count == 1 else {
            throw DMSError(
                .invalidModel,
                matches.isEmpty
                    ? "the model has no \(what) file (*\(suffix))"
                    : "the model has \(matches.count) \(what) files (\(matches.joined(separator: ", "))); exactly one is expected")
        }
        return matches[0]
    }
}
