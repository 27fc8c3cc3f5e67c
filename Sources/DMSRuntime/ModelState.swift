/// Where a served model is in its life: loading → ready, or failed with the reason; ready →
/// unloading when the server stops.
public enum ModelState: Sendable, Equatable {
    case loading
    case ready
    case failed(reason: String)
    case unloading
}
