import DMSCore
import DMSPython
import Foundation

/// What `deep-model-server --version` prints: the server's version, the CPU cores it counts (what
/// the default `--engine-threads` comes from; in a container, its CPU limit), then each engine's
/// library (the version it reports and the file it was opened from, or why none could be opened)
/// and the Python environment custom services would run in. A missing engine is a line of the
/// report, not a failure: the server serves the models of the engines it has.
enum VersionReport {
    static func text(commandName: String, cores: Int, engines: [any InferenceEngine], python: PythonService.Settings?) -> String {
        var lines = ["\(commandName) \(ServerVersion.current)", "CPU cores available: \(cores) (--engine-threads defaults to this ÷ the largest --workers)"]
        for engine in engines {
            do {
                let library = try engine.library()
                lines.append("\(engine.name) \(library.version): \(library.path)")
            } catch {
                lines.append("\(engine.name): not available: \(error.message)")
            }
        }
        if let python {
            lines.append("Python services: \(python.python) (dms package in \(python.packagePath))")
        } else {
            lines.append("Python services: not available: no interpreter and dms package found (.runtime/venv/bin/python and python/dms, or DMS_SERVICE_PYTHON and DMS_SERVICE_PACKAGES)")
        }
        return lines.joined(separator: "\n")
    }
}
