import DMSCore
import GRPCCore

extension RPCError {
    /// The gRPC status of a domain error, the one place they are mapped (the REST surface's
    /// counterpart is `WireError`): bad input and models that cannot load are INVALID_ARGUMENT,
    /// an unknown model NOT_FOUND, a model not ready UNAVAILABLE, a full queue RESOURCE_EXHAUSTED,
    /// a request over the size limits RESOURCE_EXHAUSTED (as gRPC itself answers a message over
    /// its limit), a deadline that passed DEADLINE_EXCEEDED, a request the model cannot take in this
/// form (a model whose service answers only `/predict`) FAILED_PRECONDITION, model control that is
/// off PERMISSION_DENIED, a load or unload under way FAILED_PRECONDITION, engine failures INTERNAL
/// (as REST answers 500).
    init(_ error: DMSError) {
        let code: RPCError.Code =
            switch error.code {
            case .invalidInput, .invalidModel: .invalidArgument
            case .notFound: .notFound
            case .payloadTooLarge, .resourceExhausted: .resourceExhausted
            case .unavailable: .unavailable
            case .deadlineExceeded, .requestTimeout: .deadlineExceeded
            // Not UNIMPLEMENTED, which clients read as "no such method".
            case .unsupported: .failedPrecondition
            case .alreadyExists: .alreadyExists
            case .conflict: .failedPrecondition
            case .permissionDenied: .permissionDenied
            default: .internalError
            }
        self.init(code: code, message: error.message)
    }
}
