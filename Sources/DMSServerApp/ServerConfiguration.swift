import DMSHTTP
import DMSModelStore
import DMSPython
import DMSRuntime
import DMSServices
import Foundation

/// Everything that decides how one server runs, gathered from the command line.
public struct ServerConfiguration: Sendable {
    /// Where the management API listens and who may use it.
    public struct Management: Sendable {
        public var host: String
        /// 0 binds a free port.
        public var port: Int
        /// The bearer token every request must carry; nil for none (loopback only).
        public var token: String?
        /// Where models may be registered from.
        public var allowList: LocationAllowList

        public init(host: String = "127.0.0.1", port: Int = 8081, token: String? = nil, allowList: LocationAllowList = .localFilesOnly) {
            self.host = host
            self.port = port
            self.token = token
            self.allowList = allowList
        }
    }

    /// The models to serve, in order.
    public var models: [ModelSpec]
    /// The service every model uses, or nil to choose per model.
    public var service: String?
    /// The services models may use, by name.
    public var services: ServiceCatalog
    /// How Python services run, when the project's Python environment was found.
    public var python: PythonService.Settings?
    /// Whether archives that carry their own Python service may run it.
    public var trustArchiveCode: Bool
    public var host: String
    /// 0 binds a free port.
    public var port: Int
    /// The port of the Open Inference Protocol's gRPC listener (on `host`), or nil for none; 0
    /// binds a free port.
    public var grpcPort: Int?
    /// Whether the repository extension may unload and load models (on the inference port).
    public var allowModelControl: Bool
    /// The management API's listener, or nil for none.
    public var management: Management?
    /// The bearer token the inference API asks for, or nil for none.
    public var inferenceToken: String?
    /// Where each request's access-log entry goes (both APIs), or nil for no access log.
    public var accessLog: (@Sendable (AccessLogEntry) -> Void)?
    public var modelStore: URL
    /// Largest accepted request body.
    public var maxRequestBytes: Int
    /// How long an HTTP connection may stay without a complete request part (idle between
    /// requests, or a request's headers still arriving) before it is closed.
    public var idleTimeout: Duration = .seconds(60)
    /// How long a client may take to send a request's body; slower uploads get 408.
    public var bodyTimeout: Duration = .seconds(60)
    /// Largest image, in pixels from its header, accepted before decoding.
    public var maxImagePixels: Int
    /// Serve the models that loaded when others fail, instead of exiting.
    public var allowModelFailures: Bool
    /// How remote archives are fetched and revalidated.
    public var downloads: DownloadSettings
    /// Threads one engine call may use (MXNet's OpenMP threads, ONNX Runtime's intra-op threads).
    public var engineThreads: Int

    /// The default engine threads: the cores shared among the workers of the busiest model, so
    /// that one model's workers, all busy, use each core once (workers × threads ≤ cores).
    public static func defaultEngineThreads(workers: [Int], cores: Int = ProcessInfo.processInfo.activeProcessorCount) -> Int {
        max(1, cores / max(1, workers.max() ?? 1))
    }

    public init(
        models: [ModelSpec], service: String? = nil, services: ServiceCatalog = .builtIn, python: PythonService.Settings? = nil,
        trustArchiveCode: Bool = false,
        host: String = "127.0.0.1", port: Int = 8080, grpcPort: Int? = nil, allowModelControl: Bool = false, management: Management? = Management(), inferenceToken: String? = nil,
        accessLog: (@Sendable (AccessLogEntry) -> Void)? = nil,
        modelStore: URL = ModelStore.defaultRoot, maxRequestBytes: Int = 10 << 20, maxImagePixels: Int = 40_000_000,
        allowModelFailures: Bool = false, downloads: DownloadSettings = DownloadSettings(),
        engineThreads: Int = ServerConfiguration.defaultEngineThreads(workers: [1])
    ) {
        self.models = models
        self.service = service
        self.services = services
        self.python = python
        self.trustArchiveCode = trustArchiveCode
        self.host = host
        self.port = port
        self.grpcPort = grpcPort
        self.allowModelControl = allowModelControl
        self.management = management
        self.inferenceToken = inferenceToken
        self.accessLog = accessLog
        self.modelStore = modelStore
        self.maxRequestBytes = maxRequestBytes
        self.maxImagePixels = maxImagePixels
        self.allowModelFailures = allowModelFailures
        self.downloads = downloads
        self.engineThreads = engineThreads
    }
}
