import DMSCore
import DMSMXNet
import DMSONNX
import Logging

/// The engines this server runs, in the order model folders are matched against their formats
/// (`ModelArchive.locateArtifacts`): the one list the server, `deep-model-export` and
/// `deep-model-bench` use, so a new engine is its own module and one line here.
enum Engines {
    /// Every engine, each using `threadCount` threads per engine call.
    static func all(threadCount: Int, logger: Logger) -> [any InferenceEngine] {
        [
            MXNetEngine(libraryCandidates: MXNetEngine.defaultLibraryCandidates(), threadCount: threadCount, logger: logger),
            ONNXEngine(libraryCandidates: ONNXEngine.defaultLibraryCandidates(), intraOpThreadCount: threadCount, logger: logger),
        ]
    }
}
