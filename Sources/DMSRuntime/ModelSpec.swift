import DMSModelStore

/// A model to serve: its route name, where its archive is, and how to run it.
public struct ModelSpec: Sendable, Equatable {
    public var name: String
    public var location: ModelLocation
    public var settings: ModelScheduler.Settings

    public init(name: String, location: ModelLocation, settings: ModelScheduler.Settings = .init()) {
        self.name = name
        self.location = location
        self.settings = settings
    }
}
