/// The PROXY protocol header (HAProxy's spec, versions 1 and 2) that an L4 load balancer
/// sends before a connection's own bytes to name the client it accepted.
public enum ProxyProtocolHeader {
    public enum Parse: Equatable, Sendable {
        /// The header is `length` bytes; `source` is the client's address, nil for a `LOCAL`
        /// (health check) or `UNKNOWN` connection, which keeps the TCP peer's.
        case complete(length: Int, source: String?)
        case incomplete
        case invalid(String)
    }

    /// v1's longest line, CRLF included.
    static let maxV1Length = 107
    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Parse {
        guard let first = bytes.first else { return .incomplete }
        if first == v2Signature[0] { return parseV2(bytes) }
        if first == UInt8(ascii: "P") { return parseV1(bytes) }
        return .invalid("the connection does not start with a PROXY protocol header")
    }

    private static func parseV1(_ bytes: UnsafeRawBufferPointer) -> Parse {
        let prefix = Array("PROXY ".utf8)
        guard bytes.prefix(prefix.count).elementsEqual(prefix.prefix(bytes.count)) else {
            return .invalid("not a PROXY protocol v1 line")
        }
        guard let lf = bytes.prefix(maxV1Length).firstIndex(of: 0x0A) else {
            return bytes.count >= maxV1Length ? .invalid("PROXY v1 line over 107 bytes") : .incomplete
        }
        guard lf > 0, bytes[lf - 1] == 0x0D else { return .invalid("PROXY v1 line does not end in CRLF") }
        let line = String(decoding: bytes[prefix.count..<(lf - 1)], as: UTF8.self)
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        if parts.first == "UNKNOWN" { return .complete(length: lf + 1, source: nil) }
        guard parts.count == 5, parts[0] == "TCP4" || parts[0] == "TCP6",
            let sourcePort = Int(parts[3]), (0...65535).contains(sourcePort), let destinationPort = Int(parts[4]),
            (0...65535).contains(destinationPort), isAddress(parts[1], v6: parts[0] == "TCP6"),
            isAddress(parts[2], v6: parts[0] == "TCP6")
        else {
            return .invalid("malformed PROXY v1 line")
        }
        return .complete(length: lf + 1, source: String(parts[1]))
    }

    private static func parseV2(_ bytes: UnsafeRawBufferPointer) -> Parse {
        guard bytes.count >= 16 else {
            let seen = min(bytes.count, v2Signature.count)
            return bytes.prefix(seen).elementsEqual(v2Signature.prefix(seen))
                ? .incomplete : .invalid("not a PROXY header")
        }
        guard bytes.prefix(12).elementsEqual(v2Signature) else { return .invalid("bad PROXY v2 signature") }
        let versionCommand = bytes[12]
        guard versionCommand >> 4 == 2 else { return .invalid("unsupported PROXY protocol version") }
        let length = Int(bytes[14]) << 8 | Int(bytes[15])
        guard bytes.count >= 16 + length else { return .incomplete }
        let total = 16 + length
        switch versionCommand & 0x0F {
        case 0: return .complete(length: total, source: nil)
        case 1: break
        default: return .invalid("unknown PROXY v2 command")
        }
        let body = bytes[16..<total]
        switch bytes[13] {
        case 0x11, 0x12:
            guard length >= 12 else { return .invalid("short PROXY v2 IPv4 addresses") }
            let octets = body.prefix(4).map { String($0) }
            return .complete(length: total, source: octets.joined(separator: "."))
        case 0x21, 0x22:
            guard length >= 36 else { return .invalid("short PROXY v2 IPv6 addresses") }
            let raw = Array(body.prefix(16))
            return .complete(length: total, source: ipv6Text(raw))
        default:
            // AF_UNIX or UNSPEC: no IP to name; the TCP peer's address stays.
            return .complete(length: total, source: nil)
        }
    }

    private static func isAddress(_ text: Substring, v6: Bool) -> Bool {
        if v6 {
            return !text.isEmpty && text.count <= 45
                && text.utf8.allSatisfy {
                    ByteClass.hexValue($0) != nil || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".")
                }
        }
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4
            && octets.allSatisfy {
                (1...3).contains($0.count) && $0.utf8.allSatisfy(ByteClass.isDigit) && Int($0)! <= 255
            }
    }

    /// RFC 5952 text, with the longest run of zero groups shortened to `::`.
    static func ipv6Text(_ bytes: [UInt8]) -> String {
        let groups = (0..<8).map { Int(bytes[2 * $0]) << 8 | Int(bytes[2 * $0 + 1]) }
        var bestStart = -1
        var bestLength = 0
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            let start = index
            while index < 8, groups[index] == 0 { index += 1 }
            if index - start > bestLength, index - start > 1 {
                bestStart = start
                bestLength = index - start
            }
        }
        func hex(_ range: Range<Int>) -> String {
            range.map { String(groups[$0], radix: 16) }.joined(separator: ":")
        }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}
