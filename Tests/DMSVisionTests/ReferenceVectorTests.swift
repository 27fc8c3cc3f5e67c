import DMSVision
import Testing

@Suite("MXNet 1.9.1 reference vectors")
struct ReferenceVectorTests {
    @Test func manifestHasAllCases() {
        #expect(VisionVectors.cases.count == 14)
    }

    @Test(arguments: VisionVectors.cases, [ColorMode.rgb, .gray])
    func decodeAndResizeMatch(_ vector: VisionVectors.VectorCase, mode: ColorMode) throws {
        let expected = mode == .rgb ? vector.color : vector.gray
        let image = try ImageDecoder().decode(VisionVectors.bytes(vector.file), mode: mode)
        #expect(image.width == expected.width)
        #expect(image.height == expected.height)
        #expect(image.channels == expected.channels)
        if let raw = expected.raw {
            let reference = try VisionVectors.bytes(raw)
            #expect(differingBytes(image.pixels, reference) == 0, "decode of \(vector.file) differs from \(raw)")
        }
        #expect(SHA256.hex(image.pixels) == expected.sha256)

        for target in expected.resized {
            let resized = BicubicResizer.resize(image, width: target.width, height: target.height)
            #expect(resized.width == target.width && resized.height == target.height)
            #expect(resized.channels == target.channels)
            let reference = try VisionVectors.bytes(target.raw)
            #expect(differingBytes(resized.pixels, reference) == 0, "resize differs from \(target.raw)")
            #expect(SHA256.hex(resized.pixels) == target.sha256)
        }
    }

    @Test func sha256KnownAnswers() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    private func differingBytes(_ actual: [UInt8], _ expected: [UInt8]) -> Int {
        guard actual.count == expected.count else { return max(actual.count, expected.count) }
        return zip(actual, expected).filter { $0 != $1 }.count
    }
}
