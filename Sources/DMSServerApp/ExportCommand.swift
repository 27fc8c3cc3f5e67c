import ArgumentParser
import DMSCore
import DMSModelStore
import DMSRuntime
import DMSServices
import Foundation
import Logging

/// `deep-model-export`: packs a model folder into `NAME.model`.
///
/// The folder must hold `signature.json`, exactly one `*-symbol.json` and exactly one
/// `*.params` (MXNet), or one `*.onnx` with an optional `signature.json` (ONNX); `synset.txt` and
/// any other files are packed too. Each engine checks its models (`checkForExport`): MXNet files
/// without the engine, ONNX models loaded into ONNX Runtime and checked against their signature. The files are checked with the
/// same code the server loads them with, and a `MANIFEST.json` is written into the archive (the
/// folder is left untouched).
public struct ExportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "deep-model-export",
        abstract: "Pack a model folder into a .model archive for deep-model-server.")

    @Option(name: .customLong("model-name"), help: "Name of the model; the archive is NAME.model.")
    var modelName: String

    @Option(name: .customLong("model-path"), help: "Folder with an MXNet model (signature.json, NAME-symbol.json, NAME-EPOCH.params) or an ONNX model (one NAME.onnx, signature.json optional), and optionally synset.txt.")
    var modelPath: String

    @Option(name: .customLong("service-file-path"), help: "The service to record in the manifest: a built-in one (mxnet_vision_service.py, mxnet_model_service.py), or a Python file with a custom service, packed into the archive (served only by a server started with --trust-archive-code). Default: by the signature's input_type and output_type.")
    var serviceFilePath: String?

    @Option(name: .long, help: "Folder to write the archive to (default: the current folder).")
    var output: String?

    @Flag(name: .long, help: "Overwrite an existing archive.")
    var force = false

    public init() {}

    /// The custom service file `--service-file-path` names: a `.py` file that exists and is not
    /// a built-in service's name.
    private var customServiceFile: URL? {
        guard let serviceFilePath, ServiceCatalog.builtIn.canonicalName(URL(fileURLWithPath: serviceFilePath).lastPathComponent) == nil,
            serviceFilePath.hasSuffix(".py"), FileManager.default.fileExists(atPath: serviceFilePath)
        else { return nil }
        return URL(fileURLWithPath: serviceFilePath).standardizedFileURL
    }

    public func validate() throws {
        do {
            try ModelSpec.validateName(modelName)
        } catch {
            throw ValidationError(error.message)
        }
        if let serviceFilePath, ServiceCatalog.builtIn.canonicalName(URL(fileURLWithPath: serviceFilePath).lastPathComponent) == nil,
            customServiceFile == nil
        {
            guard serviceFilePath.hasSuffix(".py") else {
                throw ValidationError(
                    "--service-file-path \(serviceFilePath): a Python file with a custom service, or a built-in service (\(BuiltInServices.vision).py, \(BuiltInServices.tensor).py)")
            }
            throw ValidationError("--service-file-path \(serviceFilePath): no such file")
        }
    }

    public func run() throws {
        let folder = URL(fileURLWithPath: modelPath).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) else {
            throw ValidationError("--model-path \(modelPath): no such folder")
        }
        guard isDirectory.boolValue else {
            throw ValidationError("--model-path \(modelPath) is a file; give the folder that holds the model's files")
        }
        let outputFolder = URL(fileURLWithPath: output ?? FileManager.default.currentDirectoryPath).standardizedFileURL
        let destination = outputFolder.appendingPathComponent("\(modelName).model")
        if FileManager.default.fileExists(atPath: destination.path), !force {
            throw ValidationError("\(destination.path) exists; use --force to overwrite it")
        }
        do {
            let engines = Engines.all(threadCount: ProcessInfo.processInfo.activeProcessorCount, logger: Logger(label: "deep-model-export"))
            let artifacts = try ModelArchive.locateArtifacts(in: folder, isExportSource: true, engines: engines)
            let engine = try engines.engine(for: artifacts.engineFiles)
            try engine.checkForExport(artifacts)
            try FileManager.default.createDirectory(at: outputFolder, withIntermediateDirectories: true)
            let hasSignatureFile = FileManager.default.fileExists(atPath: folder.appendingPathComponent("signature.json").path)
            let manifest = manifest(for: artifacts, engine: engine, engineVersion: Self.versionIfInstalled(engine), hasSignatureFile: hasSignatureFile)
            // A custom service's file is packed at the top level, unless it is there already.
            let extraFiles = customServiceFile.map { file in
                FileManager.default.fileExists(atPath: folder.appendingPathComponent(file.lastPathComponent).path) ? [] : [file]
            } ?? []
            try ModelArchiveWriter.write(folder: folder, extraFiles: extraFiles, manifest: manifest, to: destination)
        } catch let error as DMSError {
            throw ValidationError("\(modelPath): \(error.message)")
        }
        print("wrote \(destination.path)")
    }

    /// The engine library's version, or nil when the library is not installed: an engine may
    /// check its models without its library (MXNet does), so packing one does not need it.
    private static func versionIfInstalled(_ engine: any InferenceEngine) -> String? {
        do {
            return try engine.library().version
        } catch {
            FileHandle.standardError.write(Data("warning: the manifest records no \(engine.name) version: \(error.message)\n".utf8))
            return nil
        }
    }

    /// The archive's `MANIFEST.json`: what a later reader needs to find the model's files (its
    /// format and each file by the format's roles) and know how it was made, including the
    /// version of the engine library that checked it. An ONNX model without `signature.json`
    /// records none; the server reads the signature from the model.
    private func manifest(for artifacts: ModelArtifacts, engine: any InferenceEngine, engineVersion: String?, hasSignatureFile: Bool) -> JSONValue {
        let service = customServiceFile?.lastPathComponent
            ?? serviceFilePath.flatMap { ServiceCatalog.builtIn.canonicalName(URL(fileURLWithPath: $0).lastPathComponent) }
            ?? BuiltInServices.defaultService(for: artifacts.signature)
        var model: [(key: String, value: JSONValue)] = [("Model Name", .string(modelName)), ("Model Format", .string(engine.format.name))]
        for role in engine.format.fileRoles {
            if let file = artifacts.engineFiles.files[role] { model.append((role, .string(file.lastPathComponent))) }
        }
        if hasSignatureFile {
            model.append(("Signature", .string("signature.json")))
        }
        model.append(("Service", .string(service)))
        return .object([
            ("Model Archive Version", .string("1.0")),
            ("Created By", .object([("Tool", .string("deep-model-export"))])),
            ("Engine", .object([("Name", .string(engine.name))] + (engineVersion.map { [("Version", .string($0))] } ?? []))),
            ("Model", .object(model)),
        ])
    }
}
