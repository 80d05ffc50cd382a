/// Character classes of RFC 9110 / RFC 3986 as 256-entry tables, so the parsers test a
/// byte with one load.
enum ByteClass {
    /// `tchar`: the characters of a token (method, field name, transfer coding).
    static let token: [Bool] = table { byte in
        isAlphaNumeric(byte) || "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }

    /// Bytes allowed inside a field value: visible ASCII, SP, HTAB and obs-text.
    static let fieldValue: [Bool] = table { byte in
        byte == 0x09 || byte == 0x20 || (byte >= 0x21 && byte != 0x7F)
    }

    /// RFC 3986 `pchar` without `%` (escapes are checked on their own) plus `/`: what a path
    /// may hold literally. Query strings may also hold `?`.
    static let pathLiteral: [Bool] = table { byte in
        isUnreserved(byte) || isSubDelimiter(byte) || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "@")
            || byte == UInt8(ascii: "/")
    }

    /// Bytes of a host name as the edge accepts it (a DNS name or an IPv4 address).
    static let hostName: [Bool] = table { byte in
        isAlphaNumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        isAlphaNumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "~")
    }

    static func isSubDelimiter(_ byte: UInt8) -> Bool {
        "!$&'()*+,;=".utf8.contains(byte)
    }

    static func isAlphaNumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || isDigit(byte)
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func table(_ member: (UInt8) -> Bool) -> [Bool] {
        (0...255).map { member(UInt8($0)) }
    }
}
