import DMSCore
import Foundation

/// `--gen-api LANG`: a client SDK for the served API, made by openapi-generator from the
/// server's OpenAPI document, as the seed's server made one with swagger-codegen.
///
/// openapi-generator is a Java program; the `openapi-generator-cli` package from PyPI carries
/// its jar and a launcher, which `scripts/bootstrap.sh` installs into `.runtime/venv`. It is
/// found there (beside the project, as the engine libraries are), through
/// `DMS_OPENAPI_GENERATOR`, or on `PATH`; it runs on the `java` of `JAVA_HOME` or `PATH`.
/// Nothing is reimplemented here: this type only finds the tools, checks the language and runs
/// the generator, so every error says what to install or type instead.
struct ClientGenerator {
    /// The `openapi-generator-cli` launcher.
    var launcher: String

    /// Finds the launcher and Java, or says what to install.
    static func locate() throws(DMSError) -> ClientGenerator {
        let fileManager = FileManager.default
        let environment = ProcessInfo.processInfo.environment
        let candidates = EngineLibraryLocation.projectCandidates(relativePath: ".runtime/venv/bin/openapi-generator-cli", environmentVariable: "DMS_OPENAPI_GENERATOR")
            + searchPath("openapi-generator-cli")
        guard let launcher = candidates.first(where: fileManager.isExecutableFile(atPath:)) else {
            throw DMSError(
                .unsupported,
                "--gen-api needs openapi-generator: run scripts/bootstrap.sh (it installs the openapi-generator-cli package into .runtime/venv), or pip install openapi-generator-cli and put it on PATH (or set DMS_OPENAPI_GENERATOR to its launcher)")
        }
        let java = (environment["JAVA_HOME"].map { ["\($0)/bin/java"] } ?? []) + searchPath("java")
        guard java.contains(where: fileManager.isExecutableFile(atPath:)) else {
            throw DMSError(
                .unsupported,
                "--gen-api runs openapi-generator, a Java program, and no java was found on PATH or in JAVA_HOME; install Java 11 or newer (Debian: apt-get install openjdk-17-jre-headless)")
        }
        return ClientGenerator(launcher: launcher)
    }

    /// Checks that openapi-generator has a generator named `language`.
    func checkLanguage(_ language: String) async throws(DMSError) {
        let listing = try await run(["list", "--short"])
        guard listing.status == 0 else {
            throw DMSError(.internalError, "openapi-generator could not list its generators: \(listing.output)")
        }
        let languages = listing.output.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
        guard languages.contains(language) else {
            let examples = ["python", "java", "typescript-fetch", "go", "csharp", "kotlin", "swift6", "rust"].filter(languages.contains)
            throw DMSError(
                .invalidInput,
                "--gen-api \(language): openapi-generator has no generator by that name; for example \(examples.joined(separator: ", ")) (all \(languages.count): \(launcher) list)")
        }
    }

    /// Generates the client for `language` from the document at `document` into `output`.
    func generate(language: String, document: URL, output: URL) async throws(DMSError) {
        let result = try await run(["generate", "--input-spec", document.path, "--generator-name", language, "--output", output.path])
        guard result.status == 0 else {
            throw DMSError(.internalError, "openapi-generator failed to generate the \(language) client (exit \(result.status)):\n\(result.output)")
        }
    }

    /// Runs the launcher; its standard output and error together.
    private func run(_ arguments: [String]) async throws(DMSError) -> (status: Int32, output: String) {
        try await ChildProcess.run(launcher, arguments)
    }

    private static func searchPath(_ name: String) -> [String] {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/\(name)" }
    }
}
