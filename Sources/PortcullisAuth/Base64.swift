/// Base64 in the two alphabets this module meets: base64url without padding (JOSE:
/// JWS parts, JWK members) and standard base64 without padding (express-session cookie
/// signatures).
///
/// Decoding is strict: no padding, no whitespace, and the unused low bits of the last
/// character must be zero, so every byte string has exactly one accepted spelling.
enum Base64 {
    private static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let standardAlphabet = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// 0...63 for base64url characters, 0xFF for everything else.
    private static let urlDecodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in urlAlphabet.enumerated() {
            table[Int(character)] = UInt8(index)
        }
        return table
    }()

    static func urlEncoded<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        encode(bytes, alphabet: urlAlphabet)
    }

    static func standardEncodedWithoutPadding<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        encode(bytes, alphabet: standardAlphabet)
    }

    /// Decodes unpadded base64url; nil for any other character, padding, an impossible
    /// length or non-zero trailing bits.
    static func urlDecoded<Text: Collection<UInt8>>(_ text: Text) -> [UInt8]? {
        let remainder = text.count % 4
        guard remainder != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for character in text {
            let value = urlDecodeTable[Int(character)]
            guard value != 0xFF else { return nil }
            accumulator = (accumulator << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // Leftover bits (2 or 4) must be zero for the encoding to be canonical.
        guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return output
    }

    static func urlDecoded(_ text: String) -> [UInt8]? {
        urlDecoded(text.utf8)
    }

    private static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes, alphabet: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            let group = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            output.append(alphabet[Int(group >> 18 & 0x3F)])
            output.append(alphabet[Int(group >> 12 & 0x3F)])
            if second != nil { output.append(alphabet[Int(group >> 6 & 0x3F)]) }
            if third != nil { output.append(alphabet[Int(group & 0x3F)]) }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
