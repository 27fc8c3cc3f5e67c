import DMSCore

extension Tensor {
    /// A tensor of `dataType` holding `values`, whose Swift type must have that type's layout.
    init<Element>(_ dataType: DataType, _ shape: [Int], _ values: [Element]) {
        precondition(MemoryLayout<Element>.stride == dataType.byteWidth)
        self.init(dataType: dataType, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    /// The elements read as `Element`.
    func values<Element>(as _: Element.Type) -> [Element] {
        precondition(MemoryLayout<Element>.stride == dataType.byteWidth)
        return withUnsafeBytes { raw in (0..<elementCount).map { raw.loadUnaligned(fromByteOffset: $0 * dataType.byteWidth, as: Element.self) } }
    }
}
