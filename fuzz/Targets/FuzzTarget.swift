import Foundation

/// One fuzz target: a parser of bytes that reach the server from outside, driven with arbitrary
/// input by libFuzzer (`scripts/fuzz.sh`) and replayed over the committed corpus by the unit
/// tests.
///
/// Errors are the parsers' expected answers to bad input and are ignored; what a target must
/// never do is crash, trap, hang, leak or touch memory it does not own. Targets also check the
/// promises a successful parse makes (a tensor holds as many bytes as its shape says), so a
/// parser that accepts nonsense is a finding too.
public struct FuzzTarget: Sendable {
    public let name: String
    /// What the target feeds its input to, for `dms-fuzz --list` and the docs.
    public let summary: String
    private let body: @Sendable (inout FuzzInput) -> Void

    init(_ name: String, _ summary: String, body: @escaping @Sendable (inout FuzzInput) -> Void) {
        self.name = name
        self.summary = summary
        self.body = body
    }

    /// Runs the target on one input.
    public func run(_ bytes: UnsafeRawBufferPointer) {
        var input = FuzzInput(bytes)
        body(&input)
    }

    public static let all: [FuzzTarget] = [
        predictBody, tensorJSON, openInferenceREST, openInferenceGRPC, rawTensor, contentEncoding, signature, manifest, archive,
        image, modelSources, commandLine, pythonFrame,
    ]

    public static func named(_ name: String) -> FuzzTarget? {
        all.first { $0.name == name }
    }
}

/// The bytes of one fuzz input, read front to back: the first few choose what a target does
/// (a content type, a data type, a shape), the rest is the payload. Reading past the end gives
/// zeros, so every input is usable.
struct FuzzInput {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = Array(bytes)
    }

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func uint16() -> UInt16 {
        UInt16(byte()) | UInt16(byte()) << 8
    }

    /// One of `options`, chosen by the next byte.
    mutating func choose<Option>(_ options: [Option]) -> Option {
        options[Int(byte()) % options.count]
    }

    /// Up to `maxRank` dimensions of 0...`maxDimension` each, the count chosen first.
    mutating func shape(maxRank: Int = 4, maxDimension: UInt8 = 6) -> [Int] {
        let rank = Int(byte()) % (maxRank + 1)
        return (0..<rank).map { _ in Int(byte() % (maxDimension + 1)) }
    }

    /// The bytes not read yet.
    mutating func rest() -> [UInt8] {
        defer { position = bytes.count }
        return position < bytes.count ? Array(bytes[position...]) : []
    }

    /// The bytes not read yet, as text (invalid UTF-8 repaired).
    mutating func restAsText() -> String {
        String(decoding: rest(), as: UTF8.self)
    }
}
