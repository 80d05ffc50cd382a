/// Converts between the two ECDSA signature encodings: JOSE's fixed-length R‖S
/// (RFC 7518 §3.4) and the DER `ECDSA-Sig-Value` SEQUENCE OpenSSL signs and verifies.
/// Pure byte work, no OpenSSL, so it is tested on its own.
enum ECDSASignature {
    /// DER for a raw R‖S signature whose halves are `coordinateSize` bytes each; nil
    /// when the length is wrong.
    static func der(fromRaw raw: [UInt8], coordinateSize: Int) -> [UInt8]? {
        guard raw.count == 2 * coordinateSize else { return nil }
        let r = derInteger(raw[0..<coordinateSize])
        let s = derInteger(raw[coordinateSize...])
        var output: [UInt8] = [0x30]
        appendLength(r.count + s.count, to: &output)
        output.append(contentsOf: r)
        output.append(contentsOf: s)
        return output
    }

    /// R‖S, each left-padded to `coordinateSize`, from DER; nil for anything that is not
    /// exactly a SEQUENCE of two non-negative INTEGERs that fit.
    static func raw(fromDER der: [UInt8], coordinateSize: Int) -> [UInt8]? {
        var index = 0
        guard der.first == 0x30, let length = readLength(der, &index, start: 1), index + length == der.count else {
            return nil
        }
        var output: [UInt8] = []
        for _ in 0..<2 {
            guard index < der.count, der[index] == 0x02, let intLength = readLength(der, &index, start: index + 1),
                intLength > 0, index + intLength <= der.count
            else { return nil }
            var value = der[index..<index + intLength]
            guard value.first! & 0x80 == 0 else { return nil }
            while value.count > 1, value.first == 0 { value = value.dropFirst() }
            guard value.count <= coordinateSize else { return nil }
            output.append(contentsOf: repeatElement(0, count: coordinateSize - value.count))
            output.append(contentsOf: value)
            index += intLength
        }
        return index == der.count ? output : nil
    }

    /// A minimal DER INTEGER for an unsigned big-endian value.
    private static func derInteger(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var value = bytes.drop { $0 == 0 }
        if value.isEmpty { value = [0] }
        var output: [UInt8] = [0x02]
        let needsPad = value.first! & 0x80 != 0
        appendLength(value.count + (needsPad ? 1 : 0), to: &output)
        if needsPad { output.append(0) }
        output.append(contentsOf: value)
        return output
    }

    private static func appendLength(_ length: Int, to output: inout [UInt8]) {
        if length < 0x80 {
            output.append(UInt8(length))
        } else {
            // Signatures stay far below 64 KiB; one or two length bytes suffice.
            precondition(length <= 0xFFFF)
            if length <= 0xFF {
                output.append(contentsOf: [0x81, UInt8(length)])
            } else {
                output.append(contentsOf: [0x82, UInt8(length >> 8), UInt8(length & 0xFF)])
            }
        }
    }

    /// Reads a DER length at `start`, leaving `index` after it.
    private static func readLength(_ bytes: [UInt8], _ index: inout Int, start: Int) -> Int? {
        guard start < bytes.count else { return nil }
        let first = bytes[start]
        if first < 0x80 {
            index = start + 1
            return Int(first)
        }
        let count = Int(first & 0x7F)
        guard (1...2).contains(count), start + count < bytes.count else { return nil }
        var length = 0
        for offset in 1...count { length = length << 8 | Int(bytes[start + offset]) }
        guard length >= 0x80, count == 1 || length > 0xFF else { return nil }
        index = start + 1 + count
        return length
    }
}
