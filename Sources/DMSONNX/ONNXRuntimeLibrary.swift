import DMSCore
import Foundation
import Logging
import Synchronization

/// `libonnxruntime.so`, opened with `dlopen`, with the process's ONNX Runtime environment and the
/// C API functions the server calls.
///
/// ONNX Runtime exports one symbol, `OrtGetApiBase`; everything else is a slot of the `OrtApi`
/// function table that `GetApi` returns. The table only ever grows at its end, so a function's
/// slot never changes. The slots used here were read one by one from `onnxruntime_c_api.h` and
/// checked against the table ONNX Runtime builds in `onnxruntime_c_api.cc` (and its
/// `static_assert`s: slot 101 ends version 1, 118 version 2, 124 version 3, 126 version 4, 149
/// version 5); each one is exercised by a test.
///
/// One library per file path, opened once per process and never closed. The environment is
/// created with logging level ERROR: at WARNING, models exported with their weights among the
/// graph inputs print one line per weight.
final class ONNXRuntimeLibrary: Sendable {
    /// The C API version asked of `GetApi`: version 5 (ONNX Runtime 1.5) added
    /// `AddSessionConfigEntry`, the newest function used here.
    static let apiVersion: UInt32 = 5

    /// `OrtApi` slots used by the server, as numbered in `onnxruntime_c_api.h`.
    private enum Slot: Int {
        case createStatus = 0
        case getErrorCode = 1
        case getErrorMessage = 2
        case createEnv = 3
        case createSession = 7
        case run = 9
        case createSessionOptions = 10
        case setSessionGraphOptimizationLevel = 23
        case setIntraOpNumThreads = 24
        case setInterOpNumThreads = 25
        case sessionGetInputCount = 30
        case sessionGetOutputCount = 31
        case sessionGetInputTypeInfo = 33
        case sessionGetOutputTypeInfo = 34
        case sessionGetInputName = 36
        case sessionGetOutputName = 37
        case createTensorWithDataAsOrtValue = 49
        case getTensorMutableData = 51
        case castTypeInfoToTensorInfo = 55
        case getTensorElementType = 60
        case getDimensionsCount = 61
        case getDimensions = 62
        case getSymbolicDimensions = 63
        case getTensorTypeAndShape = 65
        case createCpuMemoryInfo = 69
        case allocatorFree = 76
        case getAllocatorWithDefaultOptions = 78
        case releaseEnv = 92
        case releaseStatus = 93
        case releaseMemoryInfo = 94
        case releaseSession = 95
        case releaseValue = 96
        case releaseTypeInfo = 98
        case releaseTensorTypeAndShapeInfo = 99
        case releaseSessionOptions = 100
        case addSessionConfigEntry = 130
    }

    /// An `OrtStatus*`; nil means success.
    typealias Status = OpaquePointer?
    typealias CreateStatusFunction = @convention(c) (Int32, UnsafePointer<CChar>?) -> Status
    typealias GetErrorCodeFunction = @convention(c) (Status) -> Int32
    typealias GetErrorMessageFunction = @convention(c) (Status) -> UnsafePointer<CChar>?
    typealias CreateEnvFunction = @convention(c) (Int32, UnsafePointer<CChar>?, UnsafeMutablePointer<OpaquePointer?>?) -> Status
    typealias CreateSessionFunction = @convention(c) (
        OpaquePointer?, UnsafePointer<CChar>?, OpaquePointer?, UnsafeMutablePointer<OpaquePointer?>?
    ) -> Status
    typealias RunFunction = @convention(c) (
        OpaquePointer?, OpaquePointer?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<OpaquePointer?>?, Int,
        UnsafePointer<UnsafePointer<CChar>?>?, Int, UnsafeMutablePointer<OpaquePointer?>?
    ) -> Status
    typealias CreateObjectFunction = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> Status
    typealias SetIntegerOptionFunction = @convention(c) (OpaquePointer?, Int32) -> Status
    typealias AddConfigEntryFunction = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Status
    typealias GetCountFunction = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>?) -> Status
    typealias GetTypeInfoFunction = @convention(c) (OpaquePointer?, Int, UnsafeMutablePointer<OpaquePointer?>?) -> Status
    typealias GetNameFunction = @convention(c) (
        OpaquePointer?, Int, OpaquePointer?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    ) -> Status
    typealias CreateTensorWithDataFunction = @convention(c) (
        OpaquePointer?, UnsafeMutableRawPointer?, Int, UnsafePointer<Int64>?, Int, Int32, UnsafeMutablePointer<OpaquePointer?>?
    ) -> Status
    typealias GetTensorMutableDataFunction = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Status
    typealias ConvertFunction = @convention(c) (OpaquePointer?, UnsafeMutablePointer<OpaquePointer?>?) -> Status
    typealias GetElementTypeFunction = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>?) -> Status
    typealias GetDimensionsFunction = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int64>?, Int) -> Status
    typealias GetSymbolicDimensionsFunction = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UnsafePointer<CChar>?>?, Int) -> Status
    typealias CreateCpuMemoryInfoFunction = @convention(c) (Int32, Int32, UnsafeMutablePointer<OpaquePointer?>?) -> Status
    typealias AllocatorFreeFunction = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Status
    typealias ReleaseFunction = @convention(c) (OpaquePointer?) -> Void

    let path: String
    /// The library's own version string, for example "1.32.0".
    let version: String

    let createStatus: CreateStatusFunction
    let getErrorCode: GetErrorCodeFunction
    let getErrorMessage: GetErrorMessageFunction
    let createEnv: CreateEnvFunction
    let createSession: CreateSessionFunction
    let run: RunFunction
    let createSessionOptions: CreateObjectFunction
    let setSessionGraphOptimizationLevel: SetIntegerOptionFunction
    let setIntraOpNumThreads: SetIntegerOptionFunction
    let setInterOpNumThreads: SetIntegerOptionFunction
    let addSessionConfigEntry: AddConfigEntryFunction
    let sessionGetInputCount: GetCountFunction
    let sessionGetOutputCount: GetCountFunction
    let sessionGetInputTypeInfo: GetTypeInfoFunction
    let sessionGetOutputTypeInfo: GetTypeInfoFunction
    let sessionGetInputName: GetNameFunction
    let sessionGetOutputName: GetNameFunction
    let createTensorWithData: CreateTensorWithDataFunction
    let getTensorMutableData: GetTensorMutableDataFunction
    let castTypeInfoToTensorInfo: ConvertFunction
    let getTensorElementType: GetElementTypeFunction
    let getDimensionsCount: GetCountFunction
    let getDimensions: GetDimensionsFunction
    let getSymbolicDimensions: GetSymbolicDimensionsFunction
    let getTensorTypeAndShape: ConvertFunction
    let allocatorFree: AllocatorFreeFunction
    let releaseEnv: ReleaseFunction
    let releaseStatus: ReleaseFunction
    let releaseMemoryInfo: ReleaseFunction
    let releaseSession: ReleaseFunction
    let releaseValue: ReleaseFunction
    let releaseTypeInfo: ReleaseFunction
    let releaseTensorTypeAndShapeInfo: ReleaseFunction
    let releaseSessionOptions: ReleaseFunction

    /// The process's `OrtEnv`. ONNX Runtime's objects are safe to share between threads.
    nonisolated(unsafe) let environment: OpaquePointer
    /// Describes ordinary CPU memory, for input tensors that borrow the caller's buffers.
    nonisolated(unsafe) let cpuMemoryInfo: OpaquePointer
    /// ONNX Runtime's default CPU allocator, which allocates the names sessions report (a
    /// process-wide object that is never freed).
    nonisolated(unsafe) let defaultAllocator: OpaquePointer

    private static let opened = Mutex<[String: ONNXRuntimeLibrary]>([:])

    /// The library at the first path in `candidates` that exists, opened on first use.
    static func load(candidates: [String], logger: Logger) throws(DMSError) -> ONNXRuntimeLibrary {
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw DMSError(
                .engineUnavailable,
                "the ONNX Runtime engine library (libonnxruntime.so) was not found; looked in: \(candidates.joined(separator: ", ")). Install the onnxruntime wheel (pip install onnxruntime) and set DMS_ONNXRUNTIME_LIBRARY to the libonnxruntime.so.<version> in its onnxruntime/capi folder, or link that file as .runtime/lib/libonnxruntime.so")
        }
        let resolvedPath = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        return try opened.withLock { (libraries: inout [String: ONNXRuntimeLibrary]) throws(DMSError) -> ONNXRuntimeLibrary in
            if let library = libraries[resolvedPath] { return library }
            let library = try ONNXRuntimeLibrary(path: resolvedPath)
            logger.info("loaded the ONNX Runtime engine", metadata: ["library": "\(resolvedPath)", "version": "\(library.version)"])
            libraries[resolvedPath] = library
            return library
        }
    }

    private init(path: String) throws(DMSError) {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw DMSError(.engineUnavailable, "cannot load the ONNX Runtime engine library \(path): \(reason)")
        }
        typealias GetApiBaseFunction = @convention(c) () -> UnsafeRawPointer?
        typealias GetApiFunction = @convention(c) (UInt32) -> UnsafeRawPointer?
        typealias GetVersionStringFunction = @convention(c) () -> UnsafePointer<CChar>?
        guard let getApiBase = dlsym(handle, "OrtGetApiBase"),
            let base = unsafeBitCast(getApiBase, to: GetApiBaseFunction.self)()
        else {
            throw DMSError(.engineUnavailable, "\(path) does not export OrtGetApiBase; is it libonnxruntime.so from the onnxruntime wheel?")
        }
        // struct OrtApiBase { GetApi; GetVersionString; }
        let baseFunctions = base.assumingMemoryBound(to: UnsafeRawPointer?.self)
        guard let getApi = baseFunctions[0], let getVersionString = baseFunctions[1] else {
            throw DMSError(.engineUnavailable, "\(path): OrtGetApiBase returned an empty function table")
        }
        let version = unsafeBitCast(getVersionString, to: GetVersionStringFunction.self)().map { String(cString: $0) } ?? "unknown"
        guard let api = unsafeBitCast(getApi, to: GetApiFunction.self)(Self.apiVersion) else {
            throw DMSError(.engineUnavailable, "ONNX Runtime \(version) at \(path) does not offer C API version \(Self.apiVersion); use ONNX Runtime 1.5 or later")
        }
        let table = api.assumingMemoryBound(to: UnsafeRawPointer?.self)
        func function<T>(_ slot: Slot, as type: T.Type) throws(DMSError) -> T {
            guard let pointer = table[slot.rawValue] else {
                throw DMSError(.engineUnavailable, "ONNX Runtime \(version) at \(path) has no function in C API slot \(slot.rawValue) (\(slot))")
            }
            return unsafeBitCast(pointer, to: type)
        }
        let createStatus = try function(.createStatus, as: CreateStatusFunction.self)
        let getErrorCode = try function(.getErrorCode, as: GetErrorCodeFunction.self)
        let getErrorMessage = try function(.getErrorMessage, as: GetErrorMessageFunction.self)
        let releaseStatus = try function(.releaseStatus, as: ReleaseFunction.self)
        try Self.checkStatusRoundTrip(createStatus, getErrorCode, getErrorMessage, releaseStatus, path: path, version: version)
        func describe(_ status: OpaquePointer) -> String { Self.describe(status, getErrorCode, getErrorMessage, releaseStatus) }

        let createEnv = try function(.createEnv, as: CreateEnvFunction.self)
        let releaseEnv = try function(.releaseEnv, as: ReleaseFunction.self)
        let createCpuMemoryInfo = try function(.createCpuMemoryInfo, as: CreateCpuMemoryInfoFunction.self)
        let releaseMemoryInfo = try function(.releaseMemoryInfo, as: ReleaseFunction.self)
        let getAllocatorWithDefaultOptions = try function(.getAllocatorWithDefaultOptions, as: CreateObjectFunction.self)
        self.path = path
        self.version = version
        self.createStatus = createStatus
        self.getErrorCode = getErrorCode
        self.getErrorMessage = getErrorMessage
        self.releaseStatus = releaseStatus
        self.createEnv = createEnv
        self.releaseEnv = releaseEnv
        self.releaseMemoryInfo = releaseMemoryInfo
        createSession = try function(.createSession, as: CreateSessionFunction.self)
        run = try function(.run, as: RunFunction.self)
        createSessionOptions = try function(.createSessionOptions, as: CreateObjectFunction.self)
        setSessionGraphOptimizationLevel = try function(.setSessionGraphOptimizationLevel, as: SetIntegerOptionFunction.self)
        setIntraOpNumThreads = try function(.setIntraOpNumThreads, as: SetIntegerOptionFunction.self)
        setInterOpNumThreads = try function(.setInterOpNumThreads, as: SetIntegerOptionFunction.self)
        addSessionConfigEntry = try function(.addSessionConfigEntry, as: AddConfigEntryFunction.self)
        sessionGetInputCount = try function(.sessionGetInputCount, as: GetCountFunction.self)
        sessionGetOutputCount = try function(.sessionGetOutputCount, as: GetCountFunction.self)
        sessionGetInputTypeInfo = try function(.sessionGetInputTypeInfo, as: GetTypeInfoFunction.self)
        sessionGetOutputTypeInfo = try function(.sessionGetOutputTypeInfo, as: GetTypeInfoFunction.self)
        sessionGetInputName = try function(.sessionGetInputName, as: GetNameFunction.self)
        sessionGetOutputName = try function(.sessionGetOutputName, as: GetNameFunction.self)
        createTensorWithData = try function(.createTensorWithDataAsOrtValue, as: CreateTensorWithDataFunction.self)
        getTensorMutableData = try function(.getTensorMutableData, as: GetTensorMutableDataFunction.self)
        castTypeInfoToTensorInfo = try function(.castTypeInfoToTensorInfo, as: ConvertFunction.self)
        getTensorElementType = try function(.getTensorElementType, as: GetElementTypeFunction.self)
        getDimensionsCount = try function(.getDimensionsCount, as: GetCountFunction.self)
        getDimensions = try function(.getDimensions, as: GetDimensionsFunction.self)
        getSymbolicDimensions = try function(.getSymbolicDimensions, as: GetSymbolicDimensionsFunction.self)
        getTensorTypeAndShape = try function(.getTensorTypeAndShape, as: ConvertFunction.self)
        allocatorFree = try function(.allocatorFree, as: AllocatorFreeFunction.self)
        releaseSession = try function(.releaseSession, as: ReleaseFunction.self)
        releaseValue = try function(.releaseValue, as: ReleaseFunction.self)
        releaseTypeInfo = try function(.releaseTypeInfo, as: ReleaseFunction.self)
        releaseTensorTypeAndShapeInfo = try function(.releaseTensorTypeAndShapeInfo, as: ReleaseFunction.self)
        releaseSessionOptions = try function(.releaseSessionOptions, as: ReleaseFunction.self)

        var environment: OpaquePointer?
        var cpuMemoryInfo: OpaquePointer?
        var defaultAllocator: OpaquePointer?
        let errorLevel: Int32 = 3  // ORT_LOGGING_LEVEL_ERROR
        let arenaAllocator: Int32 = 1  // OrtArenaAllocator
        let defaultMemoryType: Int32 = 0  // OrtMemTypeDefault
        let failures = [
            ("creating the environment", createEnv(errorLevel, "deep-model-server", &environment)),
            ("describing CPU memory", createCpuMemoryInfo(arenaAllocator, defaultMemoryType, &cpuMemoryInfo)),
            ("getting the default allocator", getAllocatorWithDefaultOptions(&defaultAllocator)),
        ].compactMap { action, status in status.map { "\(action): \(describe($0))" } }
        guard failures.isEmpty, let environment, let cpuMemoryInfo, let defaultAllocator else {
            releaseMemoryInfo(cpuMemoryInfo)
            releaseEnv(environment)
            throw DMSError(.engineUnavailable, "ONNX Runtime \(version) at \(path) failed while \(failures.joined(separator: "; "))")
        }

        self.environment = environment
        self.cpuMemoryInfo = cpuMemoryInfo
        self.defaultAllocator = defaultAllocator
    }

    deinit {
        releaseMemoryInfo(cpuMemoryInfo)
        releaseEnv(environment)
    }

    /// Throws `code` with ONNX Runtime's message when `status` reports a failure; every status is
    /// released.
    func check(_ status: Status, _ code: DMSError.Code, _ context: @autoclosure () -> String) throws(DMSError) {
        guard let status else { return }
        throw DMSError(code, "\(context()): \(Self.describe(status, getErrorCode, getErrorMessage, releaseStatus))")
    }

    /// ONNX Runtime's message and error code for a failed status, which is released.
    private static func describe(
        _ status: OpaquePointer, _ getErrorCode: GetErrorCodeFunction, _ getErrorMessage: GetErrorMessageFunction,
        _ releaseStatus: ReleaseFunction
    ) -> String {
        defer { releaseStatus(status) }
        let message = getErrorMessage(status).map { String(cString: $0) } ?? "no message"
        return "\(message) (\(errorCodeName(getErrorCode(status))))"
    }

    /// `OrtErrorCode` names, as in `onnxruntime_c_api.h`.
    static func errorCodeName(_ code: Int32) -> String {
        let names = [
            "ORT_OK", "ORT_FAIL", "ORT_INVALID_ARGUMENT", "ORT_NO_SUCHFILE", "ORT_NO_MODEL", "ORT_ENGINE_ERROR",
            "ORT_RUNTIME_EXCEPTION", "ORT_INVALID_PROTOBUF", "ORT_MODEL_LOADED", "ORT_NOT_IMPLEMENTED", "ORT_INVALID_GRAPH",
            "ORT_EP_FAIL",
        ]
        return names.indices.contains(Int(code)) ? names[Int(code)] : "ORT error code \(code)"
    }

    /// Makes a status and reads it back, which proves the first three slots and `ReleaseStatus`
    /// before anything depends on the table: a library with another table layout fails here
    /// instead of crashing later.
    private static func checkStatusRoundTrip(
        _ createStatus: CreateStatusFunction, _ getErrorCode: GetErrorCodeFunction, _ getErrorMessage: GetErrorMessageFunction,
        _ releaseStatus: ReleaseFunction, path: String, version: String
    ) throws(DMSError) {
        let invalidArgument: Int32 = 2  // ORT_INVALID_ARGUMENT
        let probe = "deep-model-server status probe"
        guard let status = createStatus(invalidArgument, probe) else {
            throw DMSError(.engineUnavailable, "ONNX Runtime \(version) at \(path) could not create a status; is it libonnxruntime.so from the onnxruntime wheel?")
        }
        defer { releaseStatus(status) }
        let message = getErrorMessage(status).map { String(cString: $0) }
        guard getErrorCode(status) == invalidArgument, message == probe else {
            throw DMSError(.engineUnavailable, "ONNX Runtime \(version) at \(path) does not read back a status it made; its C API table is not the one this server expects")
        }
    }
}
