/// The `grpc-timeout` request header of the gRPC protocol over HTTP/2: up to eight digits and a
/// unit (`H` hours, `M` minutes, `S` seconds, `m` milliseconds, `u` microseconds, `n`
/// nanoseconds), the time the client gives the call. Read here because the transport keeps its
/// own parse to itself, and the scheduler needs the value as the request's deadline.
enum GRPCTimeout {
    /// The timeout `value` gives; nil without one or for a malformed value (which the transport
    /// ignores too).
    static func duration(_ value: String?) -> Duration? {
        guard let value, let unit = value.last, (2...9).contains(value.count) else { return nil }
        let digits = value.dropLast()
        guard digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let amount = Int64(digits) else { return nil }
        switch unit {
        case "H": return .seconds(amount * 3600)
        case "M": return .seconds(amount * 60)
        case "S": return .seconds(amount)
        case "m": return .milliseconds(amount)
        case "u": return .microseconds(amount)
        case "n": return .nanoseconds(amount)
        default: return nil
        }
    }
}
