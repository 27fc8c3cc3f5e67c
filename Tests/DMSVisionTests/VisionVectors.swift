import Foundation
import Testing

/// The MXNet 1.9.1 reference vectors in `Resources/vision` (see its README.md and manifest.json).
enum VisionVectors {
    struct Manifest: Decodable {
        var cases: [VectorCase]
    }

    struct Resized: Decodable, Sendable {
        var width: Int
        var height: Int
        var channels: Int
        var raw: String
        var sha256: String
    }

    struct Decoded: Decodable, Sendable {
        var width: Int
        var height: Int
        var channels: Int
        var sha256: String
        var raw: String?
        var resized: [Resized]
    }

    struct VectorCase: Decodable, Sendable, CustomTestStringConvertible {
        var file: String
        var color: Decoded
        var gray: Decoded

        var testDescription: String { file }
    }

    /// Every case of the manifest; empty if it cannot be read (a separate test checks the count).
    static let cases: [VectorCase] = (try? JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url("manifest.json"))).cases) ?? []

    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: "vision", withExtension: nil)!.appendingPathComponent(name)
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url(name)))
    }
}
