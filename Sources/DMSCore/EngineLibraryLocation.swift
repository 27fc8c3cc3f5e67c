import Foundation

/// Where an engine's shared library is looked for, the same way for every engine: only the path
/// in the engine's environment variable when it is set; otherwise `.runtime/lib/<file name>` in
/// the current folder and in each folder above the executable (the project's runtime folder,
/// filled by `scripts/bootstrap.sh`).
public enum EngineLibraryLocation {
    public static func candidates(
        fileName: String, environmentVariable: String, executable: URL = EngineLibraryLocation.runningExecutable
    ) -> [String] {
        projectCandidates(relativePath: ".runtime/lib/\(fileName)", environmentVariable: environmentVariable, executable: executable)
    }

    /// The running program's file. Linux's `/proc/self/exe` names it wherever it was started
    /// from; `CommandLine.arguments[0]` is only the name typed when it was found on `PATH`.
    public static var runningExecutable: URL {
        let link = "/proc/self/exe"
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link) {
            return URL(fileURLWithPath: target)
        }
        return URL(fileURLWithPath: CommandLine.arguments[0])
    }

    /// Where a file of the project's layout is looked for: only the path in
    /// `environmentVariable` when it is set; otherwise `relativePath` under the current folder
    /// and under each folder above the executable.
    public static func projectCandidates(
        relativePath: String, environmentVariable: String, executable: URL = EngineLibraryLocation.runningExecutable
    ) -> [String] {
        if let explicit = ProcessInfo.processInfo.environment[environmentVariable], !explicit.isEmpty {
            return [explicit]
        }
        var candidates = [FileManager.default.currentDirectoryPath + "/" + relativePath]
        var folder = executable.resolvingSymlinksInPath().deletingLastPathComponent()
        while folder.path != "/" {
            candidates.append(folder.appendingPathComponent(relativePath).path)
            folder.deleteLastPathComponent()
        }
        var unique: [String] = []
        for candidate in candidates where !unique.contains(candidate) { unique.append(candidate) }
        return unique
    }
}
