import ArgumentParser
import DMSCore
import DMSLogging
import DMSRuntime
import Foundation
import Logging

/// `deep-model-server`: serves model archives over REST.
///
/// ```
/// deep-model-server --models resnet-18=resnet-18.model [NAME2=LOCATION2 ...] [--port 8080]
/// ```
public struct ServerCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "deep-model-server",
        abstract: "Serve pre-trained deep-learning models over a REST API.")

    @Option(
        name: .long, parsing: .upToNextOption,
        help: ArgumentHelp(
            "Models to serve as NAME=LOCATION pairs; LOCATION is a .model file, a model folder, file://, http:// or https://.",
            valueName: "NAME=LOCATION"))
    var models: [String] = []

    @Option(name: .long, help: "Built-in service for every model: mxnet_vision_service (vision) or mxnet_model_service (tensor). Default: by the archive's manifest, else by the signature's input_type.")
    var service: String?

    @Option(name: .long, help: "Port to listen on; 0 picks a free port (the bound address is logged).")
    var port: Int = 8080

    @Option(name: .long, help: "Address to bind.")
    var host: String = "127.0.0.1"

    @Option(name: .customLong("gen-api"), help: "Generate a client SDK in LANG (not supported yet).")
    var genAPI: String?

    @Option(name: .customLong("log-file"), help: "Log file; logs also go to standard error.")
    var logFile: String = "dms_app.log"

    @Option(name: .customLong("log-rotation-time"), help: "When to rotate the log file: \"N S|M|H|D\", \"W0\"..\"W6\" (weekday, 0 = Monday) or \"midnight\".")
    var logRotationTime: String = "1 H"

    @Option(name: .customLong("log-level"), help: "NOTSET, DEBUG, INFO, WARNING, ERROR or CRITICAL.")
    var logLevel: String = "INFO"

    @Option(name: .customLong("model-store"), help: "Cache folder for downloaded and unpacked models (default: $DMS_MODEL_STORE, else $XDG_CACHE_HOME/deep-model-server, else ~/.cache/deep-model-server).")
    var modelStore: String?

    @Option(name: .customLong("max-request-size"), help: "Largest request body in bytes; larger requests get 413.")
    var maxRequestSize: Int = 10 << 20

    @Option(name: .customLong("max-image-pixels"), help: "Largest image (width × height, from its header) accepted before decoding.")
    var maxImagePixels: Int = 40_000_000

    @Option(name: .customLong("max-download-size"), help: "Largest model archive a download may bring, in bytes.")
    var maxDownloadSize: Int64 = 4 << 30

    @Option(name: .customLong("download-timeout"), help: "Seconds a download may go without receiving data before it fails.")
    var downloadTimeout: Int = 60

    @Option(name: .customLong("queue-size"), help: "Requests that may wait for each model; more are refused at once with 503 and Retry-After.")
    var queueSize: Int = 100

    @Flag(name: .customLong("force-download"), help: "Download remote models again instead of revalidating the cached copies.")
    var forceDownload = false

    @Flag(name: .customLong("allow-model-failures"), help: "Start with the models that loaded when some fail (they are reported by /ping) instead of exiting.")
    var allowModelFailures = false

    public init() {}

    public func validate() throws {
        guard (0...65535).contains(port) else {
            throw ValidationError("--port must be between 0 and 65535, got \(port)")
        }
        guard !models.isEmpty else {
            throw ValidationError("--models needs at least one NAME=LOCATION pair")
        }
        do {
            _ = try ModelArgumentParser.parse(models)
        } catch {
            throw ValidationError(error.message)
        }
        if let service, BuiltInServices.canonicalName(service) == nil {
            throw ValidationError(
                "--service '\(service)' is not a built-in service (\(BuiltInServices.vision), \(BuiltInServices.tensor)); custom services are not supported yet")
        }
        do {
            _ = try DMSLogLevel(parsing: logLevel)
            _ = try LogRotationSchedule(parsing: logRotationTime)
        } catch {
            throw ValidationError("\(error)")
        }
        guard maxRequestSize > 0, maxImagePixels > 0, maxDownloadSize > 0, downloadTimeout > 0, queueSize > 0 else {
            throw ValidationError("--max-request-size, --max-image-pixels, --max-download-size, --download-timeout and --queue-size must be positive")
        }
    }

    public func run() async throws {
        if let genAPI {
            throw ValidationError("--gen-api \(genAPI): client SDK generation is not supported yet")
        }
        let configuration = try ServerConfiguration(
            models: ModelArgumentParser.parse(models).map { pair throws(DMSError) in
                ModelRepository.ModelSpec(name: pair.name, location: try ModelLocation(parsing: pair.location))
            },
            service: service.flatMap(BuiltInServices.canonicalName),
            host: host,
            port: port,
            modelStore: modelStore.map { URL(fileURLWithPath: $0) } ?? ModelStore.defaultRoot,
            maxRequestBytes: maxRequestSize,
            maxImagePixels: maxImagePixels,
            allowModelFailures: allowModelFailures,
            downloads: DownloadSettings(maxBytes: maxDownloadSize, stallTimeout: .seconds(Int64(downloadTimeout)), forceRefresh: forceDownload),
            queueSize: queueSize)
        let logFile = try RotatingLogFile(path: self.logFile, schedule: LogRotationSchedule(parsing: logRotationTime))
        DMSLogHandler.bootstrap(logFile: logFile, level: try DMSLogLevel(parsing: logLevel).loggerLevel, toStandardError: true)
        try await ModelServer(configuration: configuration).run()
    }
}
