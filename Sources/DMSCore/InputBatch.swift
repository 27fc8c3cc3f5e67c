/// The inputs of one engine call that serves several requests, and the way back from the
/// engine's outputs to each request's share.
///
/// Requests are laid along the batch (first) dimension in order; each writes its rows straight
/// into its slot of one tensor per input (see `PreparedInputs`). A request whose inputs cannot
/// be written (an image that turns out damaged when decoded) is left out and reported, and the
/// others still run.
public struct InputBatch: Sendable {
    /// A request that made it into the batch.
    public struct Member: Sendable, Equatable {
        /// The request's position in the list given to `assemble`.
        public var index: Int
        /// The rows of the batch that are this request's.
        public var rows: Range<Int>
    }

    /// One tensor per input, ready for the engine.
    public let tensors: [Tensor]
    /// The requests in the batch, in row order.
    public let members: [Member]

    /// Rows in the batch (the engine's batch size).
    public var rowCount: Int { members.last?.rows.upperBound ?? 0 }

    /// Builds the batch for `requests`, which share their row layouts
    /// (`PreparedInputs.rowLayouts`). Returns the batch (nil when every request failed) and the
    /// requests left out with their errors.
    public static func assemble(_ requests: [PreparedInputs]) -> (batch: InputBatch?, failures: [(index: Int, error: DMSError)]) {
        precondition(!requests.isEmpty, "a batch needs at least one request")
        var included = Array(requests.indices)
        var failures: [(index: Int, error: DMSError)] = []
        while !included.isEmpty {
            switch build(requests, included: included) {
            case .success(let batch):
                return (batch, failures)
            case .failure(let failure):
                failures.append((failure.index, failure.error))
                included.removeAll { $0 == failure.index }
            }
        }
        return (nil, failures)
    }

    /// Each member's share of the engine's `outputs`: its rows of every output. A batch of one
    /// request gets the outputs as they are.
    public func split(_ outputs: [Tensor]) throws(DMSError) -> [[Tensor]] {
        guard members.count > 1 else { return [outputs] }
        for (index, output) in outputs.enumerated() where output.shape.first != rowCount {
            throw DMSError(.engineFailure, "output \(index) has shape \(output.shape) for a batch of \(rowCount) rows; it cannot be split per request")
        }
        return members.map { member in outputs.map { $0.rows(member.rows) } }
    }

    private struct MemberFailure: Error {
        var index: Int
        var error: DMSError
    }

    private static func build(_ requests: [PreparedInputs], included: [Int]) -> Result<InputBatch, MemberFailure> {
        var members: [Member] = []
        var nextRow = 0
        for index in included {
            let rows = requests[index].rowCount
            members.append(Member(index: index, rows: nextRow..<(nextRow + rows)))
            nextRow += rows
        }
        let first = requests[included[0]]
        var tensors: [Tensor] = []
        for (inputIndex, layout) in first.inputs.enumerated() {
            var shape = layout.shape
            if included.count > 1 { shape[0] = nextRow }
            var failure: MemberFailure?
            let tensor = Tensor(dataType: layout.dataType, shape: shape, initializingBytesWith: { storage in
                var offset = 0
                for index in included {
                    let input = requests[index].inputs[inputIndex]
                    let slot = UnsafeMutableRawBufferPointer(rebasing: storage[offset..<(offset + input.byteCount)])
                    do throws(DMSError) {
                        try input.write(into: slot)
                    } catch {
                        failure = MemberFailure(index: index, error: error)
                        return
                    }
                    offset += input.byteCount
                }
            })
            if let failure { return .failure(failure) }
            tensors.append(tensor)
        }
        return .success(InputBatch(tensors: tensors, members: members))
    }
}
