import AsyncHTTPClient
import DMSCore
import DMSGRPC
import DMSHTTP
import DMSModelStore
import DMSRuntime
import DMSServices
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The whole server, assembled from a configuration: engines, model registry and loader, REST
/// surface.
///
/// `run()` loads every model first (fail fast: a model that does not load stops the start
/// unless `allowModelFailures`), then serves until SIGTERM or SIGINT, when it stops accepting,
/// finishes the requests in flight, stops the workers and frees the engines. Loading runs
/// inside the same service group as serving, so SIGTERM or SIGINT while models load (a long
/// download, say) stops it too: the download ends and its temporary file is removed, the models
/// loaded so far are unloaded, and `run()` returns without ever listening.
public struct ModelServer: Sendable {
    public var configuration: ServerConfiguration
    public var logger: Logger

    public init(configuration: ServerConfiguration, logger: Logger = Logger(label: "deep-model-server")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Raised when models fail to load and partial starts are not allowed.
    public struct ModelLoadFailure: Error, CustomStringConvertible {
        public var failures: [(model: String, reason: String)]
        public var description: String {
            "models failed to load: " + failures.map { "\($0.model): \($0.reason)" }.joined(separator: "; ")
        }
    }

    /// Ends the start when SIGTERM or SIGINT came while models were loading.
    private struct StoppedWhileLoading: Error {}

    /// The registry of the configured models (not loaded yet) and the loader for them.
    private func makeRegistry(store: ModelStore, metrics: ServerMetrics? = nil) throws -> (ModelRegistry, ModelLoader) {
        let registry = metrics.map { ModelRegistry(metricsFactory: $0.factory) } ?? ModelRegistry()
        for spec in configuration.models { try registry.add(spec) }
        let loader = ModelLoader(
            store: store,
            engines: Engines.all(threadCount: configuration.engineThreads, logger: logger),
            requestedService: configuration.service,
            makeService: configuration.services.factory(
                maxImagePixels: configuration.maxImagePixels, python: configuration.python, trustArchiveCode: configuration.trustArchiveCode,
                logger: logger))
        return (registry, loader)
    }

    /// `--gen-api`: loads every model as `run()` does (so the client has one method per model),
    /// writes the OpenAPI document to `<buildFolder>/openapi.json` and generates the client for
    /// `language` into `<buildFolder>/<language>-client`, then unloads the models. Nothing is
    /// served. The tools are checked before any model loads.
    public func generateClient(language: String, buildFolder: URL) async throws {
        let generator = try ClientGenerator.locate()
        try await generator.checkLanguage(language)
        let store = ModelStore(root: configuration.modelStore, downloadSettings: configuration.downloads)
        let storeLock = ModelStoreLock.acquire(store, logger: logger)
        defer { withExtendedLifetime(storeLock) {} }
        let (registry, loader) = try makeRegistry(store: store)
        let failures = await loadModels(into: registry, with: loader)
        let document = OpenAPIDocument.document(models: registry.models, serverURL: clientBaseURL)
        await registry.unloadAll()
        if !failures.isEmpty && !configuration.allowModelFailures {
            throw ModelLoadFailure(failures: failures)
        }
        try FileManager.default.createDirectory(at: buildFolder, withIntermediateDirectories: true)
        let documentFile = buildFolder.appendingPathComponent("openapi.json")
        try Data(document.serialized()).write(to: documentFile)
        let output = buildFolder.appendingPathComponent("\(language)-client")
        try await generator.generate(language: language, document: documentFile, output: output)
        logger.info("generated the client", metadata: ["language": "\(language)", "document": "\(documentFile.path)", "client": "\(output.path)"])
        FileHandle.standardOutput.write(Data("wrote \(documentFile.path) and the \(language) client in \(output.path)\n".utf8))
    }

    /// Where a client on this machine reaches the server: the bound address, or loopback when it
    /// binds every address (0.0.0.0, ::), which is no address to connect to.
    var clientBaseURL: String {
        let host =
            switch configuration.host {
            case "0.0.0.0", "": "127.0.0.1"
            case "::": "[::1]"
            case let address where address.contains(":"): "[\(address)]"
            case let address: address
            }
        return "http://\(host):\(configuration.port)"
    }

    public func run() async throws {
        let store = ModelStore(root: configuration.modelStore, downloadSettings: configuration.downloads)
        let storeLock = ModelStoreLock.acquire(store, logger: logger)
        defer { withExtendedLifetime(storeLock) {} }
        let metrics = ServerMetrics()
        let (registry, loader) = try makeRegistry(store: store, metrics: metrics)
        let logger = self.logger
        // One download client and one manager for the management API and the repository
        // extension's loads (it follows no redirect: see `downloadClient`).
        let managementClient =
            configuration.management != nil || configuration.allowModelControl
            ? Self.downloadClient(configuration.downloads, followsRedirects: false) : nil
        let manager = managementClient.map { client in
            ModelManager(
                registry: registry, loader: loader, allowList: configuration.management?.allowList ?? .localFilesOnly, httpClient: client,
                logger: logger)
        }
        let repository = ModelRepository(registry: registry, control: configuration.allowModelControl ? manager : nil)
        let routes = ModelServerRoutes(
            registry: registry,
            configuration: HTTPConfiguration(
                maxBodyBytes: configuration.maxRequestBytes, advertisedHost: "\(configuration.host):\(configuration.port)",
                metricsExposition: { metrics.exposition(of: registry) }, token: configuration.inferenceToken,
                accessLog: configuration.accessLog, bodyTimeout: configuration.bodyTimeout),
            repository: repository)
        // The gRPC listener binds when the REST one does, once the models are loaded.
        let (restListening, restStarted) = AsyncStream<Void>.makeStream()
        // Services stop in the reverse order: the listeners before the registry drains.
        var services: [any Service] = [RegistryShutdownService(registry: registry)]
        if let grpcPort = configuration.grpcPort {
            services.append(
                OpenInferenceGRPCListener(
                    registry: registry, repository: repository,
                    configuration: .init(
                        host: configuration.host, port: grpcPort, maxMessageBytes: configuration.maxRequestBytes, token: configuration.inferenceToken,
                        idleTimeout: configuration.idleTimeout),
                    logger: logger,
                    startsAfter: {
                        for await _ in restListening { break }
                    },
                    onListening: { address in
                        logger.info("gRPC listening", metadata: ["address": "\(address)"])
                        FileHandle.standardOutput.write(Data("gRPC listening on \(address)\n".utf8))
                    }))
        }
        if let management = configuration.management, let manager {
            services.append(
                Application(
                    router: ManagementRoutes(
                        manager: manager, token: management.token, accessLog: configuration.accessLog, bodyTimeout: configuration.bodyTimeout
                    ).makeRouter(),
                    server: .http1(configuration: .init(idleTimeout: TimeAmount(configuration.idleTimeout))),
                    configuration: .init(address: .hostname(management.host, port: management.port), serverName: nil),
                    onServerRunning: { channel in
                        let host = "\(management.host):\(channel.localAddress?.port ?? 0)"
                        logger.info("management API listening", metadata: ["address": "http://\(host)", "allowed_locations": "\(management.allowList)"])
                        FileHandle.standardOutput.write(Data("management API listening on http://\(host)\n".utf8))
                    },
                    logger: logger))
        }
        var app = Application(
            router: routes.makeRouter(),
            server: .http1(configuration: .init(additionalChannelHandlers: [ClientConnectionWatcher()], idleTimeout: TimeAmount(configuration.idleTimeout))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: services,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let host = "\(configuration.host):\(port)"
                routes.boundHost.withLock { $0 = host }
                restStarted.yield()
                restStarted.finish()
                logger.info("listening", metadata: ["address": "http://\(host)"])
                // Printed whatever the log level, so scripts (and tests) started with `--port 0`
                // can always learn the bound port.
                FileHandle.standardOutput.write(Data("listening on http://\(host)\n".utf8))
            },
            logger: logger)
        app.beforeServerStarts { [self] in
            let failures = await cancelWhenGracefulShutdown { await loadModels(into: registry, with: loader) }
            if Task.isShuttingDownGracefully {
                await registry.unloadAll()
                throw StoppedWhileLoading()
            }
            if !failures.isEmpty && !configuration.allowModelFailures {
                await registry.unloadAll()
                throw ModelLoadFailure(failures: failures)
            }
        }
        let outcome: Result<Void, any Error>
        do {
            try await app.runService()
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        try? await managementClient?.shutdown()
        do {
            try outcome.get()
        } catch is StoppedWhileLoading {
            logger.notice("stopped by a signal while loading models; nothing was served")
            FileHandle.standardError.write(Data("deep-model-server: stopped by a signal while loading models; nothing was served\n".utf8))
            return
        }
        logger.info("server stopped")
    }
}

extension ModelServer {
    /// An HTTP client made for downloads: its read timeout is the stall timeout, so a server
    /// that stops sending fails the download instead of hanging the start. Connecting is bounded
    /// too (at most 10 s): the client retries a refused connection until then, which would
    /// otherwise delay the fallback to a cached copy. Registrations through the management API
    /// follow no redirect: the allow-list checked the URL asked for, not where it redirects.
    static func downloadClient(_ downloads: DownloadSettings, followsRedirects: Bool) -> HTTPClient {
        let stall = downloads.stallTimeout
        let timeout = HTTPClient.Configuration.Timeout(connect: min(stall, .seconds(10)), read: stall)
        var configuration = HTTPClient.Configuration(timeout: timeout)
        if !followsRedirects { configuration.redirectConfiguration = HTTPClient.Configuration.RedirectConfiguration.disallow }
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Loads every model of the command line with a download client.
    fileprivate func loadModels(into registry: ModelRegistry, with loader: ModelLoader) async -> [(model: String, reason: String)] {
        let httpClient = Self.downloadClient(configuration.downloads, followsRedirects: true)
        let failures = await loader.loadAll(registry.models, httpClient: httpClient, logger: logger)
        try? await httpClient.shutdown()
        return failures
    }
}

/// Waits for graceful shutdown, then drains and unloads every model. Listed before the HTTP
/// server in the service group, so it stops after the server has finished its requests.
struct RegistryShutdownService: Service {
    let registry: ModelRegistry

    func run() async throws {
        try? await gracefulShutdown()
        await registry.unloadAll()
    }
}
