/// Builds small PNG files in memory (stored, uncompressed deflate) for tests that need images the
/// reference vectors do not contain, such as 16-bit samples that are not multiples of 257.
enum TinyPNG {
    /// A PNG of the given IHDR fields whose rows (each without its filter byte) are `rows`.
    static func encode(width: UInt32, height: UInt32, bitDepth: UInt8, colorType: UInt8, rows: [[UInt8]]) -> [UInt8] {
        var header = bigEndian(width) + bigEndian(height)
        header += [bitDepth, colorType, 0, 0, 0]
        let scanlines: [UInt8] = rows.flatMap { [UInt8(0)] + $0 }
        return signature + chunk("IHDR", header) + chunk("IDAT", zlibStored(scanlines)) + chunk("IEND", [])
    }

    /// A PNG with the given IHDR size and an IDAT that does not hold that many pixels.
    static func headerOnly(width: UInt32, height: UInt32) -> [UInt8] {
        encode(width: width, height: height, bitDepth: 8, colorType: 2, rows: [[1, 2, 3]])
    }

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    private static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeAndData = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + typeAndData + bigEndian(crc32(typeAndData))
    }

    private static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        precondition(data.count < 65_536, "one stored block only")
        let length = UInt16(data.count)
        var stream: [UInt8] = [0x78, 0x01, 0x01]
        stream += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
        stream += data
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return stream + bigEndian(b << 16 | a)
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 {
                crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
            }
        }
        return ~crc
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
