import DMSCore
import GRPCCore

extension RPCError {
    /// The gRPC status of a domain error, the one place they are mapped (the REST surface's
    /// counterpart is `WireError`): bad input and models that cannot load are INVALID_ARGUMENT,
    /// an unknown model NOT_FOUND, a model not ready UNAVAILABLE, a full queue RESOURCE_EXHAUSTED,
    /// a request over the size limits RESOURCE_EXHAUSTED (as gRPC itself answers a message over
    /// its limit), a deadline that passed DEADLINE_EXCEEDED, engine failures INTERNAL (as REST answers 500).
    init(_ error: DMSError) {
        let code: RPCError.Code =
            switch error.code {
            case .invalidInput, .invalidModel: .invalidArgument
            case .notFound: .notFound
            case .payloadTooLarge, .resourceExhausted: .resourceExhausted
            case .unavailable: .unavailable
            case .deadlineExceeded: .deadlineExceeded
            case .unsupported: .unimplemented
            case .alreadyExists: .alreadyExists
            case .conflict: .failedPrecondition
            case .permissionDenied: .permissionDenied
            default: .internalError
            }
        self.init(code: code, message: error.message)
    }
}
