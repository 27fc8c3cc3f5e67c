import DMSCore

/// A whole-number setting given for every model (`N`) and for single models (`NAME=N`), as the
/// scheduling options take it: `--workers 2 --workers resnet=1` gives every model 2 workers
/// except `resnet`. The last value for the same target wins.
package struct PerModelSetting: Sendable, Equatable {
    var defaultValue: Int
    var overrides: [String: Int]

    /// Reads the values of `option`; each must lie in `range`, and every `NAME` must be one of
    /// `models`.
    package init(parsing values: [String], option: String, defaultValue: Int, range: ClosedRange<Int>, models: [String]) throws(DMSError) {
        self.defaultValue = defaultValue
        self.overrides = [:]
        for value in values {
            let (name, number) = Self.split(value)
            guard let parsed = Int(number), range.contains(parsed) else {
                throw DMSError(.invalidInput, "\(option) '\(value)': expected N or NAME=N with N in \(range.lowerBound)...\(range.upperBound)")
            }
            if let name {
                guard models.contains(name) else {
                    throw DMSError(.invalidInput, "\(option) '\(value)': no model named '\(name)' (models: \(models.joined(separator: ", ")))")
                }
                overrides[name] = parsed
            } else {
                self.defaultValue = parsed
            }
        }
    }

    package func value(for model: String) -> Int { overrides[model] ?? defaultValue }

    private static func split(_ value: String) -> (name: String?, number: Substring) {
        guard let equals = value.lastIndex(of: "=") else { return (nil, Substring(value)) }
        return (String(value[..<equals]), value[value.index(after: equals)...])
    }
}
