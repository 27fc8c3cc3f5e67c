import DMSCore
import DMSPython

extension FuzzTarget {
    static let pythonFrame = FuzzTarget(
        "python-frame",
        "frames from a Python service's worker process: the length prefix, the JSON header, tensors and responses described as blobs of the payload"
    ) { input in
        let bytes = input.rest()
        guard bytes.count >= PythonFrame.prefixBytes,
            let lengths = try? PythonFrame.lengths(ofPrefix: Array(bytes[0..<PythonFrame.prefixBytes])),
            bytes.count - PythonFrame.prefixBytes >= lengths.header
        else { return }
        // The payload is whatever follows the header: a reader waits for the announced length,
        // which an input can only approximate.
        let headerEnd = PythonFrame.prefixBytes + lengths.header
        guard let frame = try? PythonFrame(headerBytes: Array(bytes[PythonFrame.prefixBytes..<headerEnd]), payload: Array(bytes[headerEnd...])) else {
            return
        }
        _ = try? PythonService.preprocessedTensors(in: frame, fileName: "service.py")
        _ = try? frame.blob(frame.header["response"])
    }
}
