extension ModelSignature {
    /// Why a request's named inputs do not map one to one onto the signature's inputs.
    public enum InputOrderProblem: Error, Equatable {
        /// A name that is no input's (neither its name nor `inputN`).
        case unknown(name: String)
        /// A second item for the input at this index.
        case repeated(index: Int)
        /// No item for the input at this index (the first one missing).
        case missing(index: Int)
    }

    /// `items` in signature order, each found by `name(item)`: an input's name or its positional
    /// field name (`input0`, `input1`, …; see `inputIndex(forFieldName:)`). Callers word the
    /// problem for their own surface.
    public func inSignatureOrder<Item>(_ items: [Item], name: (Item) -> String) -> Result<[Item], InputOrderProblem> {
        var ordered: [Item?] = Array(repeating: nil, count: inputs.count)
        for item in items {
            guard let index = inputIndex(forFieldName: name(item)) else { return .failure(.unknown(name: name(item))) }
            guard ordered[index] == nil else { return .failure(.repeated(index: index)) }
            ordered[index] = item
        }
        if let missing = ordered.firstIndex(where: { $0 == nil }) { return .failure(.missing(index: missing)) }
        return .success(ordered.compactMap { $0 })
    }
}
