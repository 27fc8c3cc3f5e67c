import DMSCore
import Foundation

/// MXNet's symbolic models: a `NAME-symbol.json` graph and a `NAME-EPOCH.params` weights file,
/// recorded in manifests as `Symbol` and `Parameters` (the seed's keys).
public struct MXNetFormat: ModelFormat {
    public static let symbolRole = "Symbol"
    public static let parametersRole = "Parameters"

    public init() {}

    public var name: String { "MXNet-Symbolic" }
    public var fileRoles: [String] { [Self.symbolRole, Self.parametersRole] }
    public var expectedFiles: String { "NAME-symbol.json and NAME-EPOCH.params (MXNet)" }

    /// A folder is MXNet's when its manifest names a symbol or parameters file, or when it holds
    /// a `*-symbol.json` or a `*.params`; then it must hold exactly one of each.
    public func locate(in folder: URL, names: [String], manifestNames: [String: String]) throws(DMSError) -> ModelArtifacts.EngineFiles? {
        let named = manifestNames[Self.symbolRole] != nil || manifestNames[Self.parametersRole] != nil
        guard named || names.contains(where: { $0.hasSuffix("-symbol.json") || $0.hasSuffix(".params") }) else { return nil }
        func name(_ role: String, suffix: String, what: String) throws(DMSError) -> String {
            if let named = manifestNames[role] { return named }
            return try singleName(in: names, suffix: suffix, what: what)
        }
        let symbolName = try name(Self.symbolRole, suffix: "-symbol.json", what: "symbol")
        let parametersName = try name(Self.parametersRole, suffix: ".params", what: "parameters")
        for required in [symbolName, parametersName] where !names.contains(required) {
            throw DMSError(.invalidModel, "the model has no '\(required)'")
        }
        return Self.files(symbol: folder.appendingPathComponent(symbolName), parameters: folder.appendingPathComponent(parametersName))
    }

    /// The engine files of an MXNet model.
    public static func files(symbol: URL, parameters: URL) -> ModelArtifacts.EngineFiles {
        ModelArtifacts.EngineFiles(format: MXNetFormat().name, files: [symbolRole: symbol, parametersRole: parameters])
    }
}
