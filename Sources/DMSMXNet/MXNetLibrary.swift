import DMSCore
import Foundation
import Logging
import Synchronization

/// `libmxnet.so`, opened with `dlopen`, and the C predict API functions the server calls.
///
/// MXNet reads its threading settings from the environment when the library loads, so they are
/// decided here, once per process, before `dlopen`:
/// - `OMP_NUM_THREADS` defaults to the thread count asked for (the server gives the cores
///   divided by the workers of its busiest model): left unset, MXNet 1.9.1 uses a single
///   OpenMP thread and runs half as fast on a 2-core machine (ResNet-18 at batch 1: 20.6 ms
///   unset, 10.3 ms with 2, measured through this C API on a 2-core machine).
/// - `MXNET_ENGINE_TYPE` defaults to `NaiveEngine`: the predictor runs on the calling worker
///   thread instead of handing work to MXNet's own engine threads, so the worker threads are the
///   only ones that run models and `--workers` × `OMP_NUM_THREADS` bounds the cores used.
/// - `OMP_WAIT_POLICY` defaults to `PASSIVE`: idle OpenMP threads sleep instead of spinning.
///   With ONNX Runtime models in the same process under concurrent load, spinning starves them:
///   ResNet-18 on both engines at concurrency 8 served 27.7 requests/s with PASSIVE against
///   21.3 unset, using 23 % less CPU per request; a single stream of MXNet requests is about
///   10 % slower (`bench/engine-threads.sh`, debug build, 2 cores).
/// Values the user already set are kept.
final class MXNetLibrary: Sendable {
    typealias PredictorHandle = UnsafeMutableRawPointer
    typealias CreateFunction = @convention(c) (
        UnsafePointer<CChar>?, UnsafeRawPointer?, Int32, Int32, Int32, UInt32,
        UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UInt32>?, UnsafePointer<UInt32>?,
        UnsafeMutablePointer<PredictorHandle?>?
    ) -> Int32
    typealias ReshapeFunction = @convention(c) (
        UInt32, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UInt32>?, UnsafePointer<UInt32>?,
        PredictorHandle?, UnsafeMutablePointer<PredictorHandle?>?
    ) -> Int32
    typealias SetInputFunction = @convention(c) (PredictorHandle?, UnsafePointer<CChar>?, UnsafePointer<Float>?, UInt32) -> Int32
    typealias ForwardFunction = @convention(c) (PredictorHandle?) -> Int32
    typealias GetOutputShapeFunction = @convention(c) (
        PredictorHandle?, UInt32, UnsafeMutablePointer<UnsafeMutablePointer<UInt32>?>?, UnsafeMutablePointer<UInt32>?
    ) -> Int32
    typealias GetOutputFunction = @convention(c) (PredictorHandle?, UInt32, UnsafeMutablePointer<Float>?, UInt32) -> Int32
    typealias FreeFunction = @convention(c) (PredictorHandle?) -> Int32
    typealias LastErrorFunction = @convention(c) () -> UnsafePointer<CChar>?
    typealias GetVersionFunction = @convention(c) (UnsafeMutablePointer<Int32>?) -> Int32

    let path: String
    /// The library's version, from `MXGetVersion` (for example "1.9.1").
    let version: String
    let create: CreateFunction
    let reshape: ReshapeFunction
    let setInput: SetInputFunction
    let forward: ForwardFunction
    let getOutputShape: GetOutputShapeFunction
    let getOutput: GetOutputFunction
    let free: FreeFunction
    private let lastErrorFunction: LastErrorFunction

    private static let shared = Mutex<MXNetLibrary?>(nil)

    /// The process-wide library, opened on first use from the first path in `candidates` that
    /// exists.
    static func load(candidates: [String], threadCount: Int, logger: Logger) throws(DMSError) -> MXNetLibrary {
        try shared.withLock { (loaded: inout MXNetLibrary?) throws(DMSError) -> MXNetLibrary in
            if let loaded { return loaded }
            guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                throw DMSError(
                    .engineUnavailable,
                    "the MXNet engine library (libmxnet.so) was not found; looked in: \(candidates.joined(separator: ", ")). Run scripts/bootstrap.sh, or set DMS_MXNET_LIBRARY to the path of libmxnet.so from the mxnet==1.9.1 wheel")
            }
            configureThreadingEnvironment(threadCount: threadCount)
            let library = try MXNetLibrary(path: path)
            let environment = ProcessInfo.processInfo.environment
            logger.info(
                "loaded the MXNet engine",
                metadata: [
                    "library": "\(path)", "version": "\(library.version)", "OMP_NUM_THREADS": "\(environment["OMP_NUM_THREADS"] ?? "")",
                    "MXNET_ENGINE_TYPE": "\(environment["MXNET_ENGINE_TYPE"] ?? "")",
                    "OMP_WAIT_POLICY": "\(environment["OMP_WAIT_POLICY"] ?? "")",
                ])
            loaded = library
            return library
        }
    }

    private static func configureThreadingEnvironment(threadCount: Int) {
        setenv("OMP_NUM_THREADS", String(max(1, threadCount)), 0)
        setenv("MXNET_ENGINE_TYPE", "NaiveEngine", 0)
        setenv("OMP_WAIT_POLICY", "PASSIVE", 0)
    }

    private init(path: String) throws(DMSError) {
        // The real path, not a link to it: libmxnet finds its bundled OpenBLAS through
        // `$ORIGIN`, which the loader takes from the path it was given.
        let resolvedPath = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let handle = dlopen(resolvedPath, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw DMSError(.engineUnavailable, "cannot load the MXNet engine library \(path): \(reason)")
        }
        func symbol<T>(_ name: String, as type: T.Type) throws(DMSError) -> T {
            guard let pointer = dlsym(handle, name) else {
                throw DMSError(.engineUnavailable, "\(path) does not export \(name); is it libmxnet.so from mxnet 1.9.1?")
            }
            return unsafeBitCast(pointer, to: type)
        }
        self.path = path
        // MXGetVersion gives MAJOR * 10000 + MINOR * 100 + PATCH.
        var number: Int32 = 0
        guard try symbol("MXGetVersion", as: GetVersionFunction.self)(&number) == 0 else {
            throw DMSError(.engineUnavailable, "\(path): MXGetVersion failed; is it libmxnet.so from mxnet 1.9.1?")
        }
        version = "\(number / 10000).\(number / 100 % 100).\(number % 100)"
        create = try symbol("MXPredCreate", as: CreateFunction.self)
        reshape = try symbol("MXPredReshape", as: ReshapeFunction.self)
        setInput = try symbol("MXPredSetInput", as: SetInputFunction.self)
        forward = try symbol("MXPredForward", as: ForwardFunction.self)
        getOutputShape = try symbol("MXPredGetOutputShape", as: GetOutputShapeFunction.self)
        getOutput = try symbol("MXPredGetOutput", as: GetOutputFunction.self)
        free = try symbol("MXPredFree", as: FreeFunction.self)
        lastErrorFunction = try symbol("MXGetLastError", as: LastErrorFunction.self)
    }

    /// MXNet's message for the last failed call on this thread.
    var lastError: String {
        lastErrorFunction().map { String(cString: $0) } ?? "unknown MXNet error"
    }
}
