import DMSCore
import Logging
import NIOPosix
import Synchronization

/// The worker processes of one model's Python service, handed out one request at a time.
///
/// Each exchange blocks a thread of the pool's own thread pool (one per worker) while the
/// process works, never one of Swift's cooperative threads. A worker whose process exits,
/// crashes, stops answering within the time limit or garbles a frame is killed and replaced by
/// a new process (loaded the same way) before it takes another request; the request it held
/// gets the failure.
final class PythonWorkerPool: Sendable {
    struct Settings: Sendable {
        var python: String
        var pythonPath: String
        var workers: Int
        /// The longest a worker may take to answer one request (loading: 4 times as long).
        var timeout: Duration
    }

    private struct State {
        var idle: [PythonWorkerProcess] = []
        /// Requests waiting for a worker; nil is handed to them when no worker is left.
        var waiting: [CheckedContinuation<PythonWorkerProcess?, Never>] = []
        /// Workers running or being replaced.
        var live = 0
    }

    let settings: Settings
    /// The frame that loads the service into a new process.
    private let loadFrame: [UInt8]
    private let threads: NIOThreadPool
    private let state = Mutex(State())
    private let logger: Logger
    /// Worker processes replaced since the model loaded.
    let restarts = Atomic<Int>(0)

    /// Starts `settings.workers` processes and loads the service into each; the first failure
    /// to load is thrown with the worker's message. Also returns whether the service overrides
    /// `_inference` (and so runs the model itself), as the workers reported it.
    static func start(settings: Settings, loadHeader: JSONValue, logger: Logger) async throws(DMSError) -> (PythonWorkerPool, runsInference: Bool) {
        let pool = PythonWorkerPool(settings: settings, loadFrame: PythonFrameBuilder().encoded(header: loadHeader), logger: logger)
        var started: [PythonWorkerProcess] = []
        var runsInference = false
        for _ in 0..<settings.workers {
            let (worker, reportsInference) = try await pool.onThread { () throws(DMSError) in try pool.startedWorker() }
            started.append(worker)
            runsInference = reportsInference
        }
        pool.state.withLock { $0.idle = started; $0.live = started.count }
        return (pool, runsInference)
    }

    private init(settings: Settings, loadFrame: [UInt8], logger: Logger) {
        self.settings = settings
        self.loadFrame = loadFrame
        self.logger = logger
        self.threads = NIOThreadPool(numberOfThreads: settings.workers)
        threads.start()
    }

    deinit {
        threads.shutdownGracefully { _ in }
    }

    /// Sends `frame` to an idle worker (waiting for one) and returns its answer.
    func exchange(_ frame: [UInt8]) async throws(DMSError) -> PythonFrame {
        guard let worker = await acquire() else {
            throw DMSError(.unavailable, "the model's Python workers failed and could not be restarted")
        }
        let outcome: Result<PythonFrame, PythonChannelError> = await (try? onThread { () throws(DMSError) in
            Result { () throws(PythonChannelError) in try worker.exchange(frame, timeout: self.settings.timeout) }
        }) ?? .failure(.io("the worker's thread pool stopped"))
        switch outcome {
        case .success(let answer):
            release(worker)
            return answer
        case .failure(let failure):
            logger.error("a Python worker failed; replacing it", metadata: ["pid": "\(worker.processID)", "reason": "\(failure)"])
            worker.terminate()
            restarts.add(1, ordering: .relaxed)
            await replace()
            throw DMSError(.internalError, "\(failure) while handling this request; it was restarted")
        }
    }

    /// A new process with the service loaded, for a worker that failed. When that fails too,
    /// the pool keeps one worker fewer and says so in the log.
    private func replace() async {
        do throws(DMSError) {
            let (worker, _) = try await onThread { () throws(DMSError) in try self.startedWorker() }
            release(worker)
        } catch {
            logger.error("a Python worker could not be restarted", metadata: ["reason": "\(error.message)"])
            let stranded = state.withLock { state -> [CheckedContinuation<PythonWorkerProcess?, Never>] in
                state.live -= 1
                guard state.live == 0 else { return [] }
                defer { state.waiting.removeAll() }
                return state.waiting
            }
            stranded.forEach { $0.resume(returning: nil) }
        }
    }

    /// A new process with the service loaded, and whether the service overrides `_inference`.
    private func startedWorker() throws(DMSError) -> (PythonWorkerProcess, runsInference: Bool) {
        let worker = try PythonWorkerProcess(python: settings.python, pythonPath: settings.pythonPath)
        let answer: PythonFrame
        do throws(PythonChannelError) {
            answer = try worker.exchange(loadFrame, timeout: settings.timeout * 4)
        } catch {
            worker.terminate()
            throw DMSError(.invalidModel, "the Python service did not load: \(error)")
        }
        guard answer.header["op"] as? String == "loaded" else {
            worker.terminate()
            throw DMSError(.invalidModel, answer.header["message"] as? String ?? "the Python service did not load")
        }
        return (worker, answer.header["runs_inference"] as? Bool ?? false)
    }

    /// An idle worker, waiting for one; nil when no worker is left.
    private func acquire() async -> PythonWorkerProcess? {
        await withCheckedContinuation { continuation in
            let (worker, gone) = state.withLock { state -> (PythonWorkerProcess?, Bool) in
                if let worker = state.idle.popLast() { return (worker, false) }
                if state.live == 0 { return (nil, true) }
                state.waiting.append(continuation)
                return (nil, false)
            }
            if worker != nil || gone { continuation.resume(returning: worker) }
        }
    }

    private func release(_ worker: PythonWorkerProcess) {
        let waiter = state.withLock { state -> CheckedContinuation<PythonWorkerProcess?, Never>? in
            if !state.waiting.isEmpty { return state.waiting.removeFirst() }
            state.idle.append(worker)
            return nil
        }
        waiter?.resume(returning: worker)
    }

    /// Runs blocking `work` on one of the pool's threads.
    private func onThread<Value: Sendable>(_ work: @escaping @Sendable () throws(DMSError) -> Value) async throws(DMSError) -> Value {
        do {
            return try await threads.runIfActive { try work() }
        } catch let error as DMSError {
            throw error
        } catch {
            throw DMSError(.internalError, "the Python workers' threads stopped: \(error)", cause: error)
        }
    }
}
