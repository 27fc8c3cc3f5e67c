import DMSCore
import Foundation
import Testing

@testable import DMSONNX

extension ONNXTests {
    /// Finding and opening the library, and one proof per `OrtApi` slot that the table entries
    /// are the functions their slots are named after (the model tests prove the others).
    @Suite("the ONNX Runtime library")
    struct LibraryTests {
        private static let artifacts = ModelArtifacts(
            directory: URL(fileURLWithPath: "/tmp"),
            signature: ONNXTests.signature(inputs: [.init(name: "x", shape: [0, 3])], outputs: [.init(name: "y", shape: [0, 3])]),
            engineFiles: ONNXFormat.files(model: ONNXTests.model("affine.onnx")), labels: nil, manifestService: nil)

        @Test func aMissingLibraryIsAClearLoadError() {
            let engine = ONNXEngine(libraryCandidates: ["/nowhere/libonnxruntime.so", "/also/not/here.so"], logger: ONNXTests.logger)
            ONNXTests.expectError(
                .engineUnavailable,
                ["libonnxruntime.so) was not found", "/nowhere/libonnxruntime.so, /also/not/here.so", "pip install onnxruntime", "DMS_ONNXRUNTIME_LIBRARY"]
            ) {
                _ = try engine.load(Self.artifacts)
            }
        }

        @Test func aFileThatIsNotALibraryIsAClearLoadError() {
            let model = ONNXTests.model("affine.onnx").path
            ONNXTests.expectError(.engineUnavailable, ["cannot load the ONNX Runtime engine library \(model)"]) {
                _ = try ONNXEngine(libraryCandidates: [model], logger: ONNXTests.logger).load(Self.artifacts)
            }
        }

        @Test func aLibraryThatIsNotONNXRuntimeIsAClearLoadError() throws {
            // The C library this process runs on.
            let mapsFile = try #require(FileHandle(forReadingAtPath: "/proc/self/maps"))
            let maps = String(decoding: try #require(try mapsFile.readToEnd()), as: UTF8.self)
            let libcLine = try #require(maps.split(separator: "\n").first { $0.hasSuffix("/libc.so.6") })
            let libc = String(try #require(libcLine.split(separator: " ").last))
            ONNXTests.expectError(.engineUnavailable, ["does not export OrtGetApiBase"]) {
                _ = try ONNXEngine(libraryCandidates: [libc], logger: ONNXTests.logger).load(Self.artifacts)
            }
        }

        @Test func looksWhereTheServerLooks() throws {
            let candidates = ONNXEngine.defaultLibraryCandidates()
            if let explicit = ProcessInfo.processInfo.environment["DMS_ONNXRUNTIME_LIBRARY"], !explicit.isEmpty {
                #expect(candidates == [explicit])
            } else {
                #expect(candidates.first == FileManager.default.currentDirectoryPath + "/.runtime/lib/libonnxruntime.so")
                #expect(candidates.allSatisfy { $0.hasSuffix("/.runtime/lib/libonnxruntime.so") })
            }
            let library = try ONNXTests.library()
            #expect(library === (try ONNXTests.library()))
            #expect(library.version.split(separator: ".").count == 3, "\(library.version)")
        }

        /// Slots 0, 1, 2 and 93: CreateStatus, GetErrorCode, GetErrorMessage, ReleaseStatus.
        @Test func statusRoundTrip() throws {
            let library = try ONNXTests.library()
            let status = library.createStatus(7, "made by a test")
            #expect(library.getErrorCode(status) == 7)
            ONNXTests.expectError(.engineFailure, ["while testing: made by a test (ORT_INVALID_PROTOBUF)"]) {
                try library.check(status, .engineFailure, "while testing")
            }
            try library.check(nil, .engineFailure, "a nil status is success")
        }

        /// Slots 3 and 92: CreateEnv, ReleaseEnv (the process's environment, slot 3, also creates
        /// every session of the other tests).
        @Test func createsAndReleasesAnEnvironment() throws {
            let library = try ONNXTests.library()
            var environment: OpaquePointer?
            try library.check(library.createEnv(3, "second", &environment), .internalError, "CreateEnv")
            #expect(environment != nil)
            library.releaseEnv(environment)
        }

        /// Slots 10, 23, 130 and 100: CreateSessionOptions, SetSessionGraphOptimizationLevel,
        /// AddSessionConfigEntry, ReleaseSessionOptions; each setter proves itself by refusing
        /// what only it refuses, with its own message.
        @Test func sessionOptionsRefuseWhatONNXRuntimeRefuses() throws {
            let library = try ONNXTests.library()
            var options: OpaquePointer?
            try library.check(library.createSessionOptions(&options), .internalError, "CreateSessionOptions")
            defer { library.releaseSessionOptions(options) }
            try library.check(library.setSessionGraphOptimizationLevel(options, 99), .internalError, "ORT_ENABLE_ALL")
            ONNXTests.expectError(.internalError, ["graph_optimization_level is not valid", "ORT_INVALID_ARGUMENT"]) {
                try library.check(library.setSessionGraphOptimizationLevel(options, 7), .internalError, "level 7")
            }
            try library.check(library.addSessionConfigEntry(options, "session.intra_op.allow_spinning", "0"), .internalError, "spinning")
            ONNXTests.expectError(.internalError, ["Config key is empty"]) {
                try library.check(library.addSessionConfigEntry(options, "", "0"), .internalError, "empty key")
            }
        }

        /// Slots 24 and 95: SetIntraOpNumThreads, ReleaseSession. ONNX Runtime runs the calling
        /// thread plus n - 1 pool threads, created with the session and joined when it is released.
        @Test func intraOpThreadsAreTheOnesAskedFor() throws {
            let library = try ONNXTests.library()
            let counts = try ThreadProbe.run { poolThreads in
                var session: ONNXSession? = try ONNXSession(library: library, model: ONNXTests.model("affine.onnx"), intraOpThreadCount: 4)
                let withFour = try poolThreads()
                session = nil
                let released = try poolThreads()
                session = try ONNXSession(library: library, model: ONNXTests.model("affine.onnx"), intraOpThreadCount: 1)
                _ = session
                return [withFour, released, try poolThreads()]
            }
            #expect(counts == [3, 0, 0])
        }

        /// Slot 25: SetInterOpNumThreads, whose pool exists only in ONNX Runtime's parallel
        /// execution mode. The server keeps the default sequential mode, so the test sets the mode
        /// itself through slot 13, SetSessionExecutionMode.
        @Test func interOpThreadsAreTheOnesAskedFor() throws {
            let library = try ONNXTests.library()
            let handle = try #require(dlopen(library.path, RTLD_NOW | RTLD_LOCAL))
            defer { dlclose(handle) }
            typealias GetApiBase = @convention(c) () -> UnsafeRawPointer?
            typealias GetApi = @convention(c) (UInt32) -> UnsafeRawPointer?
            typealias SetExecutionMode = @convention(c) (OpaquePointer?, Int32) -> OpaquePointer?
            let getApiBase = try #require(dlsym(handle, "OrtGetApiBase"))
            let base = try #require(unsafeBitCast(getApiBase, to: GetApiBase.self)())
            let getApi = unsafeBitCast(base.load(as: UnsafeRawPointer.self), to: GetApi.self)
            let api = try #require(getApi(ONNXRuntimeLibrary.apiVersion))
            let slot13 = try #require(api.assumingMemoryBound(to: UnsafeRawPointer?.self)[13])
            let setExecutionMode = unsafeBitCast(slot13, to: SetExecutionMode.self)

            let counts = try ThreadProbe.run { poolThreads in
                try ([3, 1] as [Int32]).map { interOpThreads in
                    var options: OpaquePointer?
                    try library.check(library.createSessionOptions(&options), .internalError, "CreateSessionOptions")
                    defer { library.releaseSessionOptions(options) }
                    try library.check(library.setIntraOpNumThreads(options, 1), .internalError, "intra-op")
                    try library.check(library.setInterOpNumThreads(options, interOpThreads), .internalError, "inter-op")
                    try library.check(setExecutionMode(options, 1), .internalError, "ORT_PARALLEL")
                    var session: OpaquePointer?
                    try library.check(
                        library.createSession(library.environment, ONNXTests.model("affine.onnx").path, options, &session), .internalError,
                        "CreateSession")
                    defer { library.releaseSession(session) }
                    return try poolThreads()
                }
            }
            #expect(counts == [2, 0])
        }
    }
}
