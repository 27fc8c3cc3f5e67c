import ArgumentParser
import DMSCore
import DMSModelStore
import DMSRuntime
import DMSServices
import Foundation
import Hummingbird
import Logging

/// `deep-model-bench`: the measuring tools `bench/run.sh` compares the server against.
public struct BenchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "deep-model-bench",
        abstract: "Measure the engine floor of a model, or serve a bare /ping for comparison (see bench/run.sh).",
        subcommands: [FloorCommand.self, PingServerCommand.self, PythonChannelCommand.self])

    public init() {}
}

/// The engine floor: the server's own prediction pipeline (`PredictionPipeline`) for one image
/// model, without HTTP or queues, in one process with the server's thread settings.
///
/// For each batch size it repeats the pipeline's steps for a batch of that many requests:
/// prepare each request (the service's checks and the signature's), run the batch as a worker
/// does (decode, resize and lay out each image into its slot, run the engine, split the
/// outputs), and make each request's response from its share. Prints one JSON object on standard output:
/// `{"engine", "model", "engine_threads", "max_batch_size", "rss_after_load_mib", "peak_rss_mib", "results":
/// [{"batch_size", "batches", "images_per_s", "ms_per_batch_p50", "ms_per_image"}], "best"}`,
/// where `ms_per_image` is the median batch time divided by the batch size, `best` the batch
/// size with the most images per second, and `rss_after_load_mib` the resident memory once the
/// model is loaded (and, as in the server, prepared and warmed up for batches up to
/// `--max-batch-size`), before any measured inference.
struct FloorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "floor", abstract: "Measure the engine floor of an image model.")

    @Option(help: "The model archive (.model) or folder.")
    var model: String

    @Option(help: "An image file to classify.")
    var image: String

    @Option(name: .customLong("batch-sizes"), help: "Comma-separated batch sizes to measure.")
    var batchSizes: String = "1,2,4,8"

    @Option(help: "Seconds to measure each batch size.")
    var seconds: Double = 10

    @Option(name: .customLong("engine-threads"), help: "Threads per engine call; default as the server with one worker (the cores).")
    var engineThreads: Int?

    @Option(name: .customLong("max-batch-size"), help: "The largest batch the model is loaded for, as the server's --max-batch-size (the engine prepares and warms up for it).")
    var maxBatchSize: Int = 8

    func run() async throws {
        let sizes = batchSizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--batch-sizes must list positive whole numbers")
        }
        let threads = engineThreads ?? ServerConfiguration.defaultEngineThreads(workers: [1])
        let logger = Logger(label: "deep-model-bench") { StreamLogHandler.standardError(label: $0) }
        let engines = Engines.all(threadCount: threads, logger: logger)
        let imageBytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: image)))
        do throws(DMSError) {
            let artifacts = try Self.artifacts(of: URL(fileURLWithPath: model), engines: engines)
            let engine = try engines.engine(for: artifacts.engineFiles)
            let batchable = artifacts.signature.batchesAcrossRequests
            let predictor = try engine.load(artifacts, maxBatchSize: batchable ? maxBatchSize : 1)
            let pipeline = PredictionPipeline(
                signature: artifacts.signature,
                service: try await ServiceCatalog.builtIn.factory(maxImagePixels: 40_000_000)(artifacts, predictor.description, nil, model))
            let loadedRSS = ProcessMemory.residentMiB
            let request = PredictionRequest(parts: [PredictionRequest.Part(name: "input0", bytes: imageBytes, contentType: "image/jpeg")])
            var results: [(batchSize: Int, batches: Int, medianMilliseconds: Double)] = []
            for size in sizes {
                let timings = try await Self.measure(batchSize: size, seconds: seconds, request: request, pipeline: pipeline, predictor: predictor)
                let median = timings.sorted()[timings.count / 2]
                results.append((size, timings.count, median))
                FileHandle.standardError.write(Data("batch \(size): \(timings.count) batches, median \(String(format: "%.2f", median)) ms (\(String(format: "%.2f", median / Double(size))) ms per image)\n".utf8))
            }
            let entries = results.map { result -> JSONValue in
                .object([
                    ("batch_size", .integer(Int64(result.batchSize))),
                    ("batches", .integer(Int64(result.batches))),
                    ("images_per_s", .number(1000 * Double(result.batchSize) / result.medianMilliseconds)),
                    ("ms_per_batch_p50", .number(result.medianMilliseconds)),
                    ("ms_per_image", .number(result.medianMilliseconds / Double(result.batchSize))),
                ])
            }
            let best = results.max { $0.medianMilliseconds / Double($0.batchSize) > $1.medianMilliseconds / Double($1.batchSize) }!
            let document = JSONValue.object([
                ("engine", .string(engine.name)),
                ("model", .string(model)),
                ("engine_threads", .integer(Int64(threads))),
                ("max_batch_size", .integer(Int64(maxBatchSize))),
                ("rss_after_load_mib", .number(loadedRSS)),
                ("peak_rss_mib", .number(ProcessMemory.peakResidentMiB)),
                ("results", .array(entries)),
                ("best", .object([
                    ("batch_size", .integer(Int64(best.batchSize))),
                    ("images_per_s", .number(1000 * Double(best.batchSize) / best.medianMilliseconds)),
                    ("ms_per_image", .number(best.medianMilliseconds / Double(best.batchSize))),
                ])),
            ])
            FileHandle.standardOutput.write(Data(document.serialized() + [UInt8(ascii: "\n")]))
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// The model's artifacts: a folder as it is, an archive unpacked into a temporary folder.
    private static func artifacts(of location: URL, engines: [any InferenceEngine]) throws(DMSError) -> ModelArtifacts {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: location.path, isDirectory: &isDirectory), isDirectory.boolValue {
            return try ModelArchive.locateArtifacts(in: location, engines: engines)
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dms-floor-\(UUID().uuidString)")
        try ModelArchive.unpack(location, to: folder)
        return try ModelArchive.locateArtifacts(in: folder, engines: engines)
    }

    /// Milliseconds per batch of `batchSize` copies of `request` through the pipeline, after one
    /// unmeasured batch.
    private static func measure(
        batchSize: Int, seconds: Double, request: PredictionRequest, pipeline: PredictionPipeline, predictor: any ModelPredictor
    ) async throws(DMSError) -> [Double] {
        func runBatch() async throws(DMSError) {
            var prepared: [PreparedInputs] = []
            for _ in 0..<batchSize {
                prepared.append(try await pipeline.prepare(request))
            }
            for outcome in PredictionPipeline.run(prepared, on: predictor) {
                _ = try await pipeline.respond(to: request, with: try outcome.get())
            }
        }
        try await runBatch()
        var timings: [Double] = []
        let clock = ContinuousClock()
        let end = clock.now + .milliseconds(Int64(seconds * 1000))
        repeat {
            let start = clock.now
            try await runBatch()
            let elapsed = clock.now - start
            timings.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) * 1e-15)
        } while clock.now < end
        return timings
    }
}

/// A bare Hummingbird app answering `GET /ping` with the JSON the server's `/ping` sends when
/// healthy: the HTTP stack's own limit, which `bench/run.sh` compares the server's `/ping` with.
struct PingServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ping-server", abstract: "Serve a bare GET /ping.")

    @Option(help: "Port to listen on; 0 picks a free port.")
    var port: Int = 8081

    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"

    func run() async throws {
        let body = JSONValue.object([("health", .string("healthy!"))]).serialized()
        let router = Router()
        router.get("/ping") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json", .contentLength: String(body.count)],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        let host = self.host
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                FileHandle.standardOutput.write(Data("listening on http://\(host):\(channel.localAddress?.port ?? 0)\n".utf8))
            })
        try await app.runService()
    }
}
