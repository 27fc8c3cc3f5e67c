import DMSCore
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

    /// Names that are, or are kept for, routes of the server's own and so cannot name a model.
    public static let reservedNames: Set<String> = ["ping", "api-description", "statistics", "metrics", "models", "health", "v1", "v2"]

    /// Whether `name` may name a model: letters, digits, `-`, `_`, `.`, not starting with `.`,
    /// and not a reserved route.
    public static func validateName(_ name: String) throws(DMSError) {
        guard let first = name.unicodeScalars.first, first != ".",
            name.unicodeScalars.allSatisfy({ isNameCharacter($0) })
        else {
            throw DMSError(.invalidInput, "'\(name)' is not a valid model name: use letters, digits, '-', '_' and '.', not starting with '.'")
        }
        guard !reservedNames.contains(name.lowercased()) else {
            throw DMSError(.invalidInput, "'\(name)' cannot name a model: it is a route of the server (reserved: \(reservedNames.sorted().joined(separator: ", ")))")
        }
    }

    /// Whether `scalar` may appear in a model name (see `validateName`).
    public static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_" || scalar == ".")
    }
}
