import ArgumentParser
import DMSCore
import DMSGRPC
import DMSHTTP
import DMSLogging
import DMSModelStore
import DMSPython
import DMSRuntime
import DMSServices
import Foundation
import Logging

/// `deep-model-server`: serves model archives over REST.
///
/// ```
/// deep-model-server --models resnet-18=resnet-18.model [NAME2=LOCATION2 ...] [--port 8080]
/// ```
public struct ServerCommand: AsyncParsableCommand {
    /// Named after the running binary: `deep-model-server`, or a server binary built on this
    /// package with services of its own (`main(services:)`), whose help and errors then say its name.
    public static let configuration = CommandConfiguration(
        commandName: ProcessInfo.processInfo.processName,
        abstract: "Serve pre-trained deep-learning models over a REST API.")

    @Option(
        name: .long, parsing: .upToNextOption,
        help: ArgumentHelp(
            "Models to serve as NAME=LOCATION pairs; LOCATION is a .model file, a model folder, a .onnx file, file://, http://, https:// or s3://.",
            valueName: "NAME=LOCATION"))
    var models: [String] = []

    @Option(name: .long, help: "Service for every model: mxnet_vision_service (vision), mxnet_model_service (tensor), one this binary registers, or a Python file with a custom service (my_service.py). Default: by the archive's manifest, else by the signature's input_type and output_type.")
    var service: String?

    @Option(name: .long, help: "Port to listen on; 0 picks a free port (the bound address is logged).")
    var port: Int = 8080

    @Option(name: .long, help: "Address to bind.")
    var host: String = "127.0.0.1"

    @Option(
        name: .customLong("grpc-port"),
        help: "Port of the Open Inference Protocol's gRPC listener (inference.GRPCInferenceService, plaintext HTTP/2, on --host, with the inference API's token); 0 picks a free port.")
    var grpcPort: Int = 8001

    @Flag(name: .customLong("no-grpc"), help: "Run without the gRPC listener.")
    var noGRPC = false

    @Flag(
        name: .customLong("allow-model-control"),
        help: "Let the Open Inference Protocol's repository extension unload and load models on the inference port (REST and gRPC; with the inference token when one is set). Off: the index only.")
    var allowModelControl = false

    @Option(name: .customLong("management-port"), help: "Port of the management API (register, change and unregister models); 0 picks a free port.")
    var managementPort: Int = 8081

    @Option(name: .customLong("management-host"), help: "Address the management API binds. Beyond loopback it needs a token (--management-token-file or $DMS_MANAGEMENT_TOKEN).")
    var managementHost: String = "127.0.0.1"

    @Flag(name: .customLong("no-management"), help: "Run without the management API.")
    var noManagement = false

    @Option(name: .customLong("management-token"), help: "Bearer token the management API requires (prefer --management-token-file or $DMS_MANAGEMENT_TOKEN: options show in the process list).")
    var managementToken: String?

    @Option(name: .customLong("management-token-file"), help: ArgumentHelp("File whose first line is the management API's bearer token.", valueName: "PATH"))
    var managementTokenFile: String?

    @Option(name: .customLong("inference-token"), help: "Bearer token the inference API requires, except on /health/live and /health/ready (prefer --inference-token-file or $DMS_INFERENCE_TOKEN). Default: none.")
    var inferenceToken: String?

    @Option(name: .customLong("inference-token-file"), help: ArgumentHelp("File whose first line is the inference API's bearer token.", valueName: "PATH"))
    var inferenceTokenFile: String?

    @Option(
        name: .customLong("allowed-urls"), parsing: .upToNextOption,
        help: ArgumentHelp(
            "Where the management API may register models from: URL prefixes (https://models.example.com/, s3://bucket/), a scheme (https://) or local folders. Default: local files only, nothing remote.",
            valueName: "PREFIX"))
    var allowedURLs: [String] = []

    @Option(name: .customLong("gen-api"), help: ArgumentHelp("Load the models, write the API description to build/openapi.json and generate a client SDK for LANG (any openapi-generator generator: python, java, typescript-fetch, go, …) into build/LANG-client, then exit without serving. Needs Java.", valueName: "LANG"))
    var genAPI: String?

    @Option(name: .customLong("log-file"), help: "Log file; logs also go to standard error. '-' writes to standard error only (as in a container).")
    var logFile: String = "dms_app.log"

    @Option(name: .customLong("log-rotation-time"), help: "When to rotate the log file: \"N S|M|H|D\", \"W0\"..\"W6\" (weekday, 0 = Monday) or \"midnight\".")
    var logRotationTime: String = "1 H"

    @Option(name: .customLong("log-level"), help: "NOTSET, DEBUG, INFO, WARNING, ERROR or CRITICAL.")
    var logLevel: String = "INFO"

    @Option(name: .customLong("access-log"), help: ArgumentHelp("Write an access log, one line per request to either API: 'log' for INFO lines in the server's log, '-' for standard output (as in a container), or a file of its own (rotated with --log-rotation-time). Default: none (a line per request costs the smallest models up to a fifth of their throughput).", valueName: "log|-|PATH"))
    var accessLog: String?

    @Option(name: .customLong("access-log-format"), help: "text or json (JSON lines; for an access-log file or -).")
    var accessLogFormat: String = "text"

    @Option(name: .customLong("model-store"), help: "Cache folder for downloaded and unpacked models (default: $DMS_MODEL_STORE, else $XDG_CACHE_HOME/deep-model-server, else ~/.cache/deep-model-server).")
    var modelStore: String?

    @Option(name: .customLong("max-request-size"), help: "Largest request body in bytes, once inflated when it comes compressed (at most 1 GiB); larger requests get 413.")
    var maxRequestSize: Int = 10 << 20

    @Option(name: .customLong("idle-timeout"), help: "Seconds an HTTP connection may stay idle, or take to send a request's headers, and a gRPC connection may go without a call, before it is closed. Keep it longer than every --queue-wait.")
    var idleTimeout: Int = 60

    @Option(name: .customLong("request-body-timeout"), help: "Seconds a client may take to send a request's body; slower uploads get 408 and lose the connection.")
    var requestBodyTimeout: Int = 60

    @Option(name: .customLong("max-image-pixels"), help: "Largest image (width × height, from its header) accepted before decoding.")
    var maxImagePixels: Int = 40_000_000

    @Option(name: .customLong("max-download-size"), help: "Largest model archive a download may bring, in bytes.")
    var maxDownloadSize: Int64 = 4 << 30

    @Option(name: .customLong("download-timeout"), help: "Seconds a download may go without receiving data before it fails.")
    var downloadTimeout: Int = 60

    @Option(name: .customLong("queue-size"), help: ArgumentHelp("Requests that may wait for a model (default 100); more are refused at once with 503 and Retry-After. N for every model or NAME=N for one; repeatable.", valueName: "N|NAME=N"))
    var queueSize: [String] = []

    @Option(name: .customLong("queue-wait"), help: ArgumentHelp("Milliseconds a request that finds the queue full waits for a place before it is refused with 503 (default 250; 0 refuses at once). Its body is read only once it has a place. N or NAME=N; repeatable.", valueName: "MS|NAME=MS"))
    var queueWait: [String] = []

    @Option(name: .long, help: ArgumentHelp("Worker threads per model, each with its own copy of the model (default 1). N for every model or NAME=N for one; repeatable.", valueName: "N|NAME=N"))
    var workers: [String] = []

    @Option(name: .customLong("max-batch-size"), help: ArgumentHelp("Most inputs one engine call may combine (default 8; 1 turns batching off). Models whose signature fixes the batch dimension never batch. N or NAME=N; repeatable.", valueName: "N|NAME=N"))
    var maxBatchSize: [String] = []

    @Option(name: .customLong("max-batch-delay"), help: ArgumentHelp("Milliseconds a worker may wait for a batch to fill while the model is busy (default 0: take what is queued). An idle worker never waits. N or NAME=N; repeatable.", valueName: "MS|NAME=MS"))
    var maxBatchDelay: [String] = []

    @Option(name: .customLong("engine-threads"), help: "Threads each engine call may use (MXNet's OMP_NUM_THREADS, ONNX Runtime's intra-op threads). Default: the cores divided by the largest --workers, at least 1.")
    var engineThreads: Int?

    @Option(name: .customLong("python-workers"), help: ArgumentHelp("Worker processes per model for a Python service (--service my_service.py; default 1). N for every model or NAME=N for one; repeatable.", valueName: "N|NAME=N"))
    var pythonWorkers: [String] = []

    @Flag(name: .customLong("install-service-requirements"), help: "Install the packages a Python service lists in a requirements.txt beside its file (pip, from PyPI) into the model store, for its workers. Off by default: installing runs code from PyPI.")
    var installServiceRequirements = false

    @Flag(name: .customLong("trust-archive-code"), help: "Serve archives that carry their own Python service (their MANIFEST.json names a .py file inside them) with it. Off by default: an archive, possibly fetched from a URL, must not run code the operator did not approve.")
    var trustArchiveCode = false

    @Option(name: .customLong("python-timeout"), help: "Seconds a Python service's worker may take to answer one request before it is killed and restarted.")
    var pythonTimeout = 30

    @Flag(name: .customLong("force-download"), help: "Download remote models again instead of revalidating the cached copies.")
    var forceDownload = false

    @Flag(name: .customLong("allow-model-failures"), help: "Start with the models that loaded when some fail (they are reported by /ping) instead of exiting.")
    var allowModelFailures = false

    @Flag(name: .customLong("version"), help: "Print the version, the engine libraries found and where, and the Python environment for services; then exit.")
    var printVersion = false

    public init() {}

    /// The management API's settings, or nil with `--no-management`. Beyond loopback a token is
    /// required: whoever reaches the API could load any allowed archive and unload every model.
    private func management() throws(DMSError) -> ServerConfiguration.Management? {
        guard !noManagement else { return nil }
        let token = try AccessToken.resolve(
            option: managementToken, file: managementTokenFile, environmentVariable: "DMS_MANAGEMENT_TOKEN", optionName: "--management-token")
        if token == nil, !AccessToken.isLoopback(managementHost) {
            throw DMSError(
                .invalidInput,
                "--management-host \(managementHost) opens the management API beyond this machine: give it a token (--management-token-file or $DMS_MANAGEMENT_TOKEN), or bind 127.0.0.1, or --no-management")
        }
        let allowList = allowedURLs.isEmpty ? LocationAllowList.localFilesOnly : try LocationAllowList(parsing: allowedURLs)
        return ServerConfiguration.Management(host: managementHost, port: managementPort, token: token, allowList: allowList)
    }

    /// Where access-log entries go: nowhere by default; with `--access-log log`, the log as INFO
    /// lines of the logger `access` (model and request id as metadata); with `-`, standard output
    /// (never rotated: it may be a pipe, or a file the caller's shell opened); else a file of
    /// their own (text or JSON lines).
    private func accessLogWriter() throws -> (@Sendable (AccessLogEntry) -> Void)? {
        guard let accessLog else { return nil }
        guard accessLog != "log" else {
            let logger = Logger(label: "access")
            return { entry in
                logger.info("\(entry.summary)", metadata: ["model": "\(entry.model ?? "-")", "request_id": "\(entry.requestID)"])
            }
        }
        let json = accessLogFormat == "json"
        if accessLog == "-" {
            // Descriptor 1 itself, not /dev/stdout opened again: that fails (ENXIO) when standard
            // output is a socket, as systemd's journal gives a service. The lock keeps lines whole.
            let lock = NSLock()
            return { entry in
                let line = Data(((json ? entry.jsonLine(at: Date()) : entry.textLine(at: Date())) + "\n").utf8)
                lock.withLock { try? FileHandle.standardOutput.write(contentsOf: line) }
            }
        }
        let file = try RotatingLogFile(path: accessLog, schedule: LogRotationSchedule(parsing: logRotationTime))
        return { entry in
            file.write(json ? entry.jsonLine(at: Date()) : entry.textLine(at: Date()))
        }
    }

    /// Each model's scheduling settings from the per-model options.
    private func schedulingSettings(modelNames: [String]) throws(DMSError) -> @Sendable (String) -> ModelScheduler.Settings {
        let queueSize = try PerModelSetting(parsing: queueSize, option: "--queue-size", defaultValue: 100, range: 1...1_000_000, models: modelNames)
        let workers = try PerModelSetting(parsing: workers, option: "--workers", defaultValue: 1, range: 1...64, models: modelNames)
        let batchSize = try PerModelSetting(parsing: maxBatchSize, option: "--max-batch-size", defaultValue: 8, range: 1...4096, models: modelNames)
        let delay = try PerModelSetting(parsing: maxBatchDelay, option: "--max-batch-delay", defaultValue: 0, range: 0...60_000, models: modelNames)
        let queueWait = try queueWaitSetting(modelNames: modelNames)
        return { name in
            ModelScheduler.Settings(
                workers: workers.value(for: name), maxBatchSize: batchSize.value(for: name),
                maxBatchDelay: .milliseconds(delay.value(for: name)), queueSize: queueSize.value(for: name),
                admissionWait: .milliseconds(queueWait.value(for: name)))
        }
    }

    /// `--queue-wait`: milliseconds, 250 unless set.
    private func queueWaitSetting(modelNames: [String]) throws(DMSError) -> PerModelSetting {
        try PerModelSetting(parsing: queueWait, option: "--queue-wait", defaultValue: 250, range: 0...60_000, models: modelNames)
    }

    public func validate() throws {
        guard !printVersion else { return }
        guard (0...65535).contains(port) else {
            throw ValidationError("--port must be between 0 and 65535, got \(port)")
        }
        guard (0...65535).contains(grpcPort) else {
            throw ValidationError("--grpc-port must be between 0 and 65535, got \(grpcPort)")
        }
        guard (0...65535).contains(managementPort) else {
            throw ValidationError("--management-port must be between 0 and 65535, got \(managementPort)")
        }
        if !noGRPC, !OpenInferenceGRPCListener.canBind(host: host) {
            throw ValidationError("--host \(host): the gRPC listener binds an IP address (127.0.0.1, 0.0.0.0, ::1, ::) or localhost; give one, or --no-grpc")
        }
        do {
            _ = try management()
            let token = try AccessToken.resolve(option: inferenceToken, file: inferenceTokenFile, environmentVariable: "DMS_INFERENCE_TOKEN", optionName: "--inference-token")
            if allowModelControl, token == nil, !AccessToken.isLoopback(host) {
                throw ValidationError(
                    "--allow-model-control with --host \(host) lets anyone who reaches the inference port unload models: give the inference API a token (--inference-token-file or $DMS_INFERENCE_TOKEN), or bind 127.0.0.1")
            }
        } catch let error as DMSError {
            throw ValidationError(error.message)
        }
        guard !models.isEmpty else {
            throw ValidationError("--models needs at least one NAME=LOCATION pair")
        }
        do {
            _ = try ModelArgumentParser.parse(models)
        } catch {
            throw ValidationError(error.message)
        }
        if let service, ServiceCatalog.current.isPythonFile(service) {
            guard FileManager.default.fileExists(atPath: service) else {
                throw ValidationError("--service \(service): no such Python file")
            }
            guard PythonService.Settings.locate(workers: 1, timeout: .seconds(1)) != nil else {
                throw ValidationError(
                    "--service \(service): no Python environment for services was found (.runtime/venv/bin/python and python/dms, as scripts/bootstrap.sh makes them, or DMS_SERVICE_PYTHON and DMS_SERVICE_PACKAGES)")
            }
        } else if let service, ServiceCatalog.current.canonicalName(service) == nil {
            throw ValidationError(
                "--service '\(service)' is not a service of this server (\(ServiceCatalog.current.names.joined(separator: ", "))) nor a Python file (NAME.py)")
        }
        guard ["text", "json"].contains(accessLogFormat) else {
            throw ValidationError("--access-log-format must be text or json, got '\(accessLogFormat)'")
        }
        if accessLogFormat == "json" && (accessLog == nil || accessLog == "log") {
            throw ValidationError("--access-log-format json needs --access-log PATH or - (a file of its own or standard output; the log's lines are text)")
        }
        guard pythonTimeout > 0 else {
            throw ValidationError("--python-timeout must be positive")
        }
        do {
            _ = try PerModelSetting(parsing: pythonWorkers, option: "--python-workers", defaultValue: 1, range: 1...64, models: ModelArgumentParser.parse(models).map(\.name))
        } catch {
            throw ValidationError(error.message)
        }
        do {
            _ = try DMSLogLevel(parsing: logLevel)
            _ = try LogRotationSchedule(parsing: logRotationTime)
        } catch {
            throw ValidationError("\(error)")
        }
        guard maxRequestSize <= 1 << 30 else {
            throw ValidationError("--max-request-size must be at most 1073741824 (1 GiB), got \(maxRequestSize)")
        }
        guard maxRequestSize > 0, maxImagePixels > 0, maxDownloadSize > 0, downloadTimeout > 0, (engineThreads ?? 1) > 0, idleTimeout > 0,
            requestBodyTimeout > 0
        else {
            throw ValidationError(
                "--max-request-size, --max-image-pixels, --max-download-size, --download-timeout, --engine-threads, --idle-timeout and --request-body-timeout must be positive")
        }
        do {
            _ = try schedulingSettings(modelNames: ModelArgumentParser.parse(models).map(\.name))
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// A warning when `--idle-timeout` is not longer than the longest `--queue-wait` (the default
    /// counts: models registered later wait that long). A request waiting for a place in its
    /// queue has its body left unread; once the body is larger than the socket's buffers the
    /// client can send nothing more, and the idle timeout closes the connection before the wait
    /// ends. Smaller bodies are read whole at once and are not affected, so this is no error.
    private func idleTimeoutWarning(modelNames: [String]) throws(DMSError) -> String? {
        let queueWait = try queueWaitSetting(modelNames: modelNames)
        let longestQueueWait = modelNames.map(queueWait.value(for:)).reduce(queueWait.defaultValue, max)
        guard idleTimeout * 1000 <= longestQueueWait else { return nil }
        return "--idle-timeout \(idleTimeout) s is not longer than --queue-wait \(longestQueueWait) ms: an upload larger than the socket's buffers that waits that long for a place in the queue is cut off by the idle timeout"
    }

    public func run() async throws {
        if printVersion {
            var quiet = Logger(label: "version")
            quiet.logLevel = .critical
            print(
                VersionReport.text(
                    commandName: Self.configuration.commandName ?? "deep-model-server",
                    cores: ProcessInfo.processInfo.activeProcessorCount,
                    engines: Engines.all(threadCount: engineThreads ?? 1, logger: quiet),
                    python: PythonService.Settings.locate(workers: 1, timeout: .seconds(pythonTimeout))))
            return
        }
        let pairs = try ModelArgumentParser.parse(models)
        let settings = try schedulingSettings(modelNames: pairs.map(\.name))
        let storeRoot = modelStore.map { URL(fileURLWithPath: $0) } ?? ModelStore.defaultRoot
        let pythonWorkers = try PerModelSetting(parsing: pythonWorkers, option: "--python-workers", defaultValue: 1, range: 1...64, models: pairs.map(\.name))
        var python = PythonService.Settings.locate(workers: pythonWorkers.defaultValue, timeout: .seconds(pythonTimeout))
        python?.workersByModel = pythonWorkers.overrides
        if installServiceRequirements {
            python?.requirementsCache = storeRoot.appendingPathComponent("python-packages")
        }
        var configuration = try ServerConfiguration(
            models: pairs.map { pair throws(DMSError) in
                ModelSpec(name: pair.name, location: try ModelLocation(parsing: pair.location), settings: settings(pair.name))
            },
            service: service.map { ServiceCatalog.current.isPythonFile($0) ? URL(fileURLWithPath: $0).standardizedFileURL.path : ServiceCatalog.current.canonicalName($0) ?? $0 },
            services: ServiceCatalog.current,
            python: python,
            trustArchiveCode: trustArchiveCode,
            host: host,
            port: port,
            grpcPort: noGRPC ? nil : grpcPort,
            allowModelControl: allowModelControl,
            management: management(),
            inferenceToken: AccessToken.resolve(option: inferenceToken, file: inferenceTokenFile, environmentVariable: "DMS_INFERENCE_TOKEN", optionName: "--inference-token"),
            modelStore: storeRoot,
            maxRequestBytes: maxRequestSize,
            maxImagePixels: maxImagePixels,
            allowModelFailures: allowModelFailures,
            downloads: DownloadSettings(maxBytes: maxDownloadSize, stallTimeout: .seconds(Int64(downloadTimeout)), forceRefresh: forceDownload),
            engineThreads: engineThreads ?? ServerConfiguration.defaultEngineThreads(workers: pairs.map { settings($0.name).workers }))
        let logFile = self.logFile == "-" ? nil : try RotatingLogFile(path: self.logFile, schedule: LogRotationSchedule(parsing: logRotationTime))
        DMSLogHandler.bootstrap(logFile: logFile, level: try DMSLogLevel(parsing: logLevel).loggerLevel, toStandardError: true)
        if let warning = try idleTimeoutWarning(modelNames: pairs.map(\.name)) {
            Logger(label: "deep-model-server").warning("\(warning)")
        }
        configuration.accessLog = try accessLogWriter()
        configuration.idleTimeout = .seconds(idleTimeout)
        configuration.bodyTimeout = .seconds(requestBodyTimeout)
        if let genAPI {
            try await ModelServer(configuration: configuration).generateClient(
                language: genAPI, buildFolder: URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("build"))
        } else {
            OpenFileLimit.raiseToHardLimit()
            try await ModelServer(configuration: configuration).run()
        }
    }
}
