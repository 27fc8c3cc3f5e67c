import Foundation

/// One JSON object of `signature.json`, read with errors that name the file, the field's path and
/// what the field accepts, so that every mistake in a signature is a load error a user can fix.
struct SignatureObject {
    /// Where the object is, for errors: `signature.json: inputs[0].preprocess`.
    let path: String
    private let members: [String: Any]

    /// Reads `value` as an object; anything else is an error naming `path`.
    init(_ value: Any, path: String) throws(DMSError) {
        guard let members = value as? [String: Any] else {
            throw DMSError(.invalidModel, "\(path) must be a JSON object")
        }
        self.path = path
        self.members = members
    }

    /// Refuses members other than `allowed` (a misspelt option must not be ignored silently).
    func refuseUnknownMembers(_ allowed: [String]) throws(DMSError) {
        for key in members.keys.sorted() where !allowed.contains(key) {
            throw DMSError(.invalidModel, "\(path) has an unknown field '\(key)'; the fields are \(allowed.joined(separator: ", "))")
        }
    }

    func has(_ key: String) -> Bool { members[key] != nil }

    /// A string member that must be one of `allowed` (compared as written).
    func choice(_ key: String, from allowed: [String]) throws(DMSError) -> String? {
        guard let value = members[key] else { return nil }
        guard let text = value as? String, allowed.contains(text) else {
            throw DMSError(.invalidModel, "\(path).\(key) must be one of \(allowed.map { "\"\($0)\"" }.joined(separator: ", ")), got \(Self.describe(value))")
        }
        return text
    }

    /// A whole number of at least 1.
    func positiveInteger(_ key: String) throws(DMSError) -> Int? {
        guard let value = members[key] else { return nil }
        guard case .exact(let integer) = JSONNumber.integer(value), integer >= 1, let result = Int(exactly: integer) else {
            throw DMSError(.invalidModel, "\(path).\(key) must be a whole number of at least 1, got \(Self.describe(value))")
        }
        return result
    }

    /// A finite number.
    func number(_ key: String) throws(DMSError) -> Double? {
        guard let value = members[key] else { return nil }
        return try Self.finiteNumber(value, field: "\(path).\(key)")
    }

    /// A non-empty list of finite numbers.
    func numbers(_ key: String) throws(DMSError) -> [Double]? {
        guard let value = members[key] else { return nil }
        guard let list = value as? [Any], !list.isEmpty else {
            throw DMSError(.invalidModel, "\(path).\(key) must be a non-empty list of numbers, got \(Self.describe(value))")
        }
        var numbers: [Double] = []
        for (index, item) in list.enumerated() { numbers.append(try Self.finiteNumber(item, field: "\(path).\(key)[\(index)]")) }
        return numbers
    }

    /// A non-empty list of strings.
    func strings(_ key: String) throws(DMSError) -> [String]? {
        guard let value = members[key] else { return nil }
        guard let list = value as? [Any], !list.isEmpty, let strings = list as? [String] else {
            throw DMSError(.invalidModel, "\(path).\(key) must be a non-empty list of strings, got \(Self.describe(value))")
        }
        return strings
    }

    /// A member that is itself an object.
    func object(_ key: String) throws(DMSError) -> SignatureObject? {
        guard let value = members[key] else { return nil }
        return try SignatureObject(value, path: "\(path).\(key)")
    }

    /// The member as parsed, for fields that take several forms.
    func raw(_ key: String) -> Any? { members[key] }

    private static func finiteNumber(_ value: Any, field: String) throws(DMSError) -> Double {
        guard let number = value as? NSNumber, !JSONNumber.isBoolean(value), number.doubleValue.isFinite else {
            throw DMSError(.invalidModel, "\(field) must be a number, got \(describe(value))")
        }
        return number.doubleValue
    }

    /// A short rendering of a parsed JSON value for errors.
    static func describe(_ value: Any) -> String {
        if let text = value as? String { return "\"\(text)\"" }
        if JSONNumber.isBoolean(value), let flag = value as? Bool { return flag ? "true" : "false" }
        if let number = value as? NSNumber { return number.stringValue }
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) {
            let text = String(decoding: data, as: UTF8.self)
            return text.count > 80 ? String(text.prefix(77)) + "..." : text
        }
        return String(describing: value)
    }
}
