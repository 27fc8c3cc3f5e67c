/// An error with a fixed description, logged by the handler tests to check how errors are shown.
struct ModelLoadError: Error, CustomStringConvertible {
    var description: String { "weights missing" }
}
