/// Padded standard base64 (RFC 4648 §4), as Engine.IO carries binary packets in polling
/// payloads (`b` + base64) and as `base64id` spells session ids (url alphabet, 15 bytes so
/// never padded).
///
/// Decoding is strict so a packet has one spelling: length a multiple of four, `=` only
/// as the last one or two characters, no whitespace, and the bits padding leaves unused
/// must be zero. Every JavaScript and Python client encodes this way.
enum Base64 {
    static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Sextet value of each standard-alphabet byte; 0xFF for any other byte.
    private static let sextets: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in standardAlphabet.enumerated() {
            table[Int(byte)] = UInt8(value)
        }
        return table
    }()

    /// Appends the padded encoding of `bytes` to `output`.
    static func encode(_ bytes: some Collection<UInt8>, alphabet: [UInt8] = standardAlphabet, into output: inout String)
    {
        var encoded: [UInt8] = []
        encoded.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            var group: UInt32 = 0
            var taken = 0
            while taken < 3, index != bytes.endIndex {
                group |= UInt32(bytes[index]) << (16 - 8 * UInt32(taken))
                bytes.formIndex(after: &index)
                taken += 1
            }
            for position in 0..<4 {
                if position <= taken {
                    encoded.append(alphabet[Int(group >> (18 - 6 * UInt32(position)) & 0x3F)])
                } else {
                    encoded.append(UInt8(ascii: "="))
                }
            }
        }
        output += String(decoding: encoded, as: UTF8.self)
    }

    /// The bytes `text` encodes, or nil when it is not canonical padded standard base64.
    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 4 == 0 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(text.count / 4 * 3)
        var quad: UInt32 = 0
        var filled = 0
        var padding = 0
        for byte in text {
            if byte == UInt8(ascii: "=") {
                padding += 1
                quad <<= 6
            } else {
                let value = self.sextets[Int(byte)]
                guard value != 0xFF, padding == 0 else { return nil }
                quad = quad << 6 | UInt32(value)
            }
            filled += 1
            guard filled == 4 else { continue }
            guard padding <= 2 else { return nil }
            let kept = 3 - padding
            // Bits under the padding must be zero, or two spellings would decode alike.
            guard quad & ((1 << (8 * UInt32(padding))) - 1) == 0 else { return nil }
            output.append(UInt8(truncatingIfNeeded: quad >> 16))
            if kept > 1 { output.append(UInt8(truncatingIfNeeded: quad >> 8)) }
            if kept > 2 { output.append(UInt8(truncatingIfNeeded: quad)) }
            if padding > 0 { return output.count == text.count / 4 * 3 - padding ? output : nil }
            quad = 0
            filled = 0
        }
        return output
    }
}
