/// The one error type of the server's domain: a stable code, a message for the user, and an
/// optional underlying cause.
///
/// Codes are transport-neutral; each surface (REST today, gRPC later) maps them to its wire format
/// in exactly one place.
public struct DMSError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. A struct over a private enum, so codes can be added later
    /// without breaking exhaustive switches in other modules.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case invalidInput, notFound, alreadyExists, payloadTooLarge, unavailable, resourceExhausted, deadlineExceeded, requestTimeout
            case unsupported, invalidModel, engineUnavailable, engineFailure, internalError, conflict, permissionDenied
        }

        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The request does not fit the model's signature or is malformed.
        public static let invalidInput = Code(.invalidInput)
        /// No model (or other named resource) by that name.
        public static let notFound = Code(.notFound)
        /// A model (or other named resource) by that name exists already.
        public static let alreadyExists = Code(.alreadyExists)
        /// Another operation on the same resource is under way (a model's settings being changed).
        public static let conflict = Code(.conflict)
        /// The caller may not do this: a location outside the allow-list, a wrong token.
        public static let permissionDenied = Code(.permissionDenied)
        /// The request or one of its parts is larger than a configured limit.
        public static let payloadTooLarge = Code(.payloadTooLarge)
        /// The model exists but cannot serve now (still loading, failed to load, shutting down).
        public static let unavailable = Code(.unavailable)
        /// A bounded queue is full; the client should retry later.
        public static let resourceExhausted = Code(.resourceExhausted)
        /// The request's deadline passed before it could be served.
        public static let deadlineExceeded = Code(.deadlineExceeded)
        /// The client did not send the whole request in the time allowed (a body trickled in).
        public static let requestTimeout = Code(.requestTimeout)
        /// A feature that this server does not support (yet).
        public static let unsupported = Code(.unsupported)
        /// A model archive, signature or model file is broken; raised while loading.
        public static let invalidModel = Code(.invalidModel)
        /// The engine a model needs cannot be used: its library is not installed, cannot be
        /// opened, or is not the engine expected. A problem of the server's installation, not of
        /// the model; raised while loading.
        public static let engineUnavailable = Code(.engineUnavailable)
        /// The inference engine reported an error while running a model.
        public static let engineFailure = Code(.engineFailure)
        /// A bug or an unexpected condition inside the server.
        public static let internalError = Code(.internalError)

        public var description: String {
            switch wrapped {
            case .invalidInput: "invalid input"
            case .notFound: "not found"
            case .alreadyExists: "already exists"
            case .payloadTooLarge: "payload too large"
            case .unavailable: "unavailable"
            case .resourceExhausted: "resource exhausted"
            case .deadlineExceeded: "deadline exceeded"
            case .requestTimeout: "request timeout"
            case .unsupported: "unsupported"
            case .invalidModel: "invalid model"
            case .engineUnavailable: "engine unavailable"
            case .engineFailure: "engine failure"
            case .internalError: "internal error"
            case .conflict: "conflict"
            case .permissionDenied: "permission denied"
            }
        }
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { message }
}
