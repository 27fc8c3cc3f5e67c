import DMSCore
import DMSRuntime
import Foundation

/// Reads the `--models` values into (name, location) pairs.
///
/// Pairs come as separate arguments (`a=x b=y`) or in the seed's comma form (`a=x, b=y`, which a
/// shell hands over as `a=x,` and `b=y`): a comma followed by optional spaces (or the end of the
/// argument) and `NAME=` starts a new pair; any other comma belongs to the location.
public enum ModelArgumentParser {
    public static func parse(_ arguments: [String]) throws(DMSError) -> [(name: String, location: String)] {
        var pairs: [(name: String, location: String)] = []
        for (index, argument) in arguments.enumerated() {
            var fragments = splitPairs(argument)
            if let last = fragments.last, index + 1 < arguments.count, startsWithPair(arguments[index + 1]) {
                let trimmed = last.trimmingCharacters(in: .whitespaces)
                if trimmed.hasSuffix(",") {
                    fragments[fragments.count - 1] = String(trimmed.dropLast())
                }
            }
            for fragment in fragments where !fragment.trimmingCharacters(in: .whitespaces).isEmpty {
                pairs.append(try pair(fragment.trimmingCharacters(in: .whitespaces)))
            }
        }
        guard !pairs.isEmpty else {
            throw DMSError(.invalidInput, "--models needs at least one NAME=LOCATION pair")
        }
        var seen: Set<String> = []
        for pair in pairs where !seen.insert(pair.name).inserted {
            throw DMSError(.invalidInput, "the model name '\(pair.name)' is given more than once")
        }
        return pairs
    }

    private static func pair(_ text: String) throws(DMSError) -> (name: String, location: String) {
        guard let equals = text.firstIndex(of: "=") else {
            throw DMSError(.invalidInput, "'\(text)' is not a NAME=LOCATION pair")
        }
        let name = String(text[..<equals])
        let location = String(text[text.index(after: equals)...])
        try ModelSpec.validateName(name)
        guard !location.isEmpty else {
            throw DMSError(.invalidInput, "the model '\(name)' has no location after '='")
        }
        return (name, location)
    }

    /// Whether `text` begins with `NAME=` for a syntactically valid name.
    private static func startsWithPair(_ text: String) -> Bool {
        let trimmed = text.drop(while: { $0 == " " })
        guard let equals = trimmed.firstIndex(of: "=") else { return false }
        let name = trimmed[..<equals]
        return !name.isEmpty && name.first != "." && name.unicodeScalars.allSatisfy(ModelSpec.isNameCharacter)
    }

    /// Splits one argument at every comma that is followed by optional spaces and `NAME=`.
    private static func splitPairs(_ argument: String) -> [String] {
        var fragments: [String] = []
        var current = ""
        var index = argument.startIndex
        while index < argument.endIndex {
            let character = argument[index]
            let next = argument.index(after: index)
            if character == ",", startsWithPair(String(argument[next...])) {
                fragments.append(current)
                current = ""
            } else {
                current.append(character)
            }
            index = next
        }
        fragments.append(current)
        return fragments
    }
}
