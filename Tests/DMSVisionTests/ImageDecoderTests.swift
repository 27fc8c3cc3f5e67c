import DMSVision
import Testing

@Suite("ImageDecoder")
struct ImageDecoderTests {
    @Test func refusesTooManyPixelsFromTheHeader() throws {
        let jpeg = try VisionVectors.bytes("shrink.jpg")
        #expect(throws: ImageDecodingError(.tooManyPixels(width: 451, height: 300, limit: 135_299))) {
            try ImageDecoder(maxPixels: 451 * 300 - 1).decode(jpeg, mode: .rgb)
        }
        let png = try VisionVectors.bytes("enlarge.png")
        #expect(throws: ImageDecodingError(.tooManyPixels(width: 40, height: 40, limit: 1_000))) {
            try ImageDecoder(maxPixels: 1_000).decode(png, mode: .gray)
        }
        #expect(try ImageDecoder(maxPixels: 1_600).decode(png, mode: .gray).pixels.count == 1_600)
    }

    /// The declared sizes below come with data far too short to decode, so only a header-first check
    /// can report `tooManyPixels` instead of a decoding failure.
    @Test func refusesBeforeDecoding() throws {
        var jpeg = try VisionVectors.bytes("shrink.jpg")
        let frame = try #require(jpeg.indices.first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg.replaceSubrange((frame + 5)..<(frame + 9), with: [0x75, 0x30, 0x75, 0x30])
        #expect(throws: ImageDecodingError(.tooManyPixels(width: 30_000, height: 30_000, limit: 40_000_000))) {
            try ImageDecoder().decode(jpeg, mode: .rgb)
        }
        let png = TinyPNG.headerOnly(width: 10_000, height: 10_000)
        #expect(throws: ImageDecodingError(.tooManyPixels(width: 10_000, height: 10_000, limit: 40_000_000))) {
            try ImageDecoder().decode(png, mode: .rgb)
        }
    }

    @Test(arguments: ["shrink.jpg", "progressive.jpg", "cmyk.jpg", "enlarge.png", "palette.png", "16bit.png"])
    func truncatedDataThrows(_ file: String) throws {
        let bytes = try VisionVectors.bytes(file)
        for length in [2, 8, 20, 40, bytes.count / 3, bytes.count / 2, bytes.count - 20] {
            for mode in [ColorMode.rgb, .gray] {
                let error = #expect(throws: ImageDecodingError.self, "\(file) cut to \(length) bytes") {
                    try ImageDecoder().decode(Array(bytes.prefix(length)), mode: mode)
                }
                if length >= 8 {
                    #expect(isCorrupt(error), "\(file) cut to \(length) bytes: \(String(describing: error))")
                }
            }
        }
    }

    @Test func randomBytesThrow() {
        var generator = SplitMix64(seed: 42)
        for size in [0, 1, 3, 16, 1_000, 50_000] {
            let noise = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(throws: ImageDecodingError(.unsupportedFormat)) {
                try ImageDecoder().decode(noise, mode: .rgb)
            }
            for signature in [[0xFF, 0xD8, 0xFF], TinyPNG.signature] {
                let error = #expect(throws: ImageDecodingError.self) {
                    try ImageDecoder().decode(signature + noise, mode: .rgb)
                }
                #expect(isCorrupt(error))
            }
        }
    }

    /// Damaged files must either decode to a consistent image or throw; any crash fails the whole run.
    @Test func damagedFilesNeverCrash() throws {
        var generator = SplitMix64(seed: 7)
        for vector in VisionVectors.cases {
            let original = try VisionVectors.bytes(vector.file)
            for _ in 0..<60 {
                var damaged = original
                for _ in 0..<Int.random(in: 1...8, using: &generator) {
                    damaged[Int.random(in: 3..<damaged.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
                for mode in [ColorMode.rgb, .gray] {
                    if let image = try? ImageDecoder().decode(damaged, mode: mode) {
                        #expect(image.pixels.count == image.width * image.height * (mode == .rgb ? 3 : 1))
                    }
                }
            }
        }
    }

    @Test func zeroSizedImagesThrow() throws {
        let png = TinyPNG.encode(width: 0, height: 1, bitDepth: 8, colorType: 0, rows: [[]])
        #expect(isCorrupt(#expect(throws: ImageDecodingError.self) { try ImageDecoder().decode(png, mode: .rgb) }))

        var jpeg = try VisionVectors.bytes("odd.jpg")
        let frame = try #require(jpeg.indices.first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg.replaceSubrange((frame + 5)..<(frame + 7), with: [0, 0])
        #expect(isCorrupt(#expect(throws: ImageDecodingError.self) { try ImageDecoder().decode(jpeg, mode: .rgb) }))
    }

    /// OpenCV reads 16-bit PNGs with libpng's `png_set_strip_16`: the high byte, not a rounded scale.
    /// (The reference 16-bit vector only holds multiples of 257, where both agree.)
    @Test func sixteenBitKeepsTheHighByte() throws {
        let samples: [UInt16] = [0x80FF, 0x0180, 0xFFFF, 0x0000, 0x7F80, 0x00FF]
        let row = samples.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        let png = TinyPNG.encode(width: 6, height: 1, bitDepth: 16, colorType: 0, rows: [row])
        let gray = try ImageDecoder().decode(png, mode: .gray)
        #expect(gray.pixels == [0x80, 0x01, 0xFF, 0x00, 0x7F, 0x00])
        let color = try ImageDecoder().decode(png, mode: .rgb)
        #expect(color.pixels == gray.pixels.flatMap { [$0, $0, $0] })
    }

    @Test func decodesConcurrently() async throws {
        let files = ["shrink.jpg", "odd.jpg", "progressive.jpg", "cmyk.jpg", "mixed.png", "rgba.png", "palette.png", "16bit.png"]
        let inputs = try files.map { try VisionVectors.bytes($0) }
        let decoder = ImageDecoder()
        let expected = try inputs.map { try decoder.decode($0, mode: .rgb) }
        let results = try await withThrowingTaskGroup(of: (Int, PixelImage).self) { group in
            for round in 0..<4 {
                for (index, input) in inputs.enumerated() {
                    group.addTask { (index, try decoder.decode(input, mode: round.isMultiple(of: 2) ? .rgb : .gray)) }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 4 * files.count)
        for (index, image) in results where image.channels == 3 {
            #expect(image == expected[index])
        }
    }

    @Test func errorsDescribeThemselves() {
        #expect(ImageDecodingError(.unsupportedFormat).description.contains("JPEG or PNG"))
        #expect(ImageDecodingError(.corrupt("bad Huffman table")).description.contains("bad Huffman table"))
        let tooLarge = ImageDecodingError(.tooManyPixels(width: 8_000, height: 6_000, limit: 40_000_000)).description
        #expect(tooLarge.contains("8000x6000") && tooLarge.contains("40000000"))
    }

    private func isCorrupt(_ error: ImageDecodingError?) -> Bool {
        if case .corrupt = error?.kind { true } else { false }
    }
}
