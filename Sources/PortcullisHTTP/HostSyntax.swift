/// The `Host` header and absolute-form authorities as the edge accepts them: a DNS name
/// or IPv4 address (letters, digits, `-`, `_`, `.`), or a bracketed IPv6 literal, with an
/// optional port. Userinfo (`user@`), empty labels and anything else are refused:
/// RFC 9112 §3.2 asks for a 400 on an invalid `Host`.
public enum HostSyntax {
    public static func check(_ value: String) -> RequestRefusal? {
        // Read in place: an array copy of the bytes was a heap allocation per request.
        var value = value
        return value.withUTF8 { check(bytes: $0) }
    }

    private static func check(bytes: UnsafeBufferPointer<UInt8>) -> RequestRefusal? {
        if bytes.contains(UInt8(ascii: "@")) {
            return RequestRefusal(.badHost, "userinfo in the host")
        }
        guard !bytes.isEmpty, bytes.count <= 255 + 6 else {
            return RequestRefusal(.badHost, "empty or overlong host")
        }
        var portStart: Int?
        if bytes[0] == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")), close > 1 else {
                return RequestRefusal(.badHost, "unterminated IPv6 literal")
            }
            for byte in bytes[1..<close]
            where !(ByteClass.hexValue(byte) != nil || byte == UInt8(ascii: ":") || byte == UInt8(ascii: ".")) {
                return RequestRefusal(.badHost, "invalid IPv6 literal")
            }
            if close + 1 < bytes.count {
                guard bytes[close + 1] == UInt8(ascii: ":") else {
                    return RequestRefusal(.badHost, "junk after an IPv6 literal")
                }
                portStart = close + 2
            }
        } else {
            let colon = bytes.firstIndex(of: UInt8(ascii: ":"))
            let name = bytes[..<(colon ?? bytes.count)]
            guard !name.isEmpty, name.first != UInt8(ascii: "."), name.allSatisfy({ ByteClass.hostName[Int($0)] }),
                !zip(name, name.dropFirst()).contains(where: { $0 == UInt8(ascii: ".") && $1 == UInt8(ascii: ".") })
            else {
                return RequestRefusal(.badHost, "host is not a DNS name or IP address")
            }
            portStart = colon.map { $0 + 1 }
        }
        if let portStart {
            let port = bytes[portStart...]
            guard (1...5).contains(port.count), port.allSatisfy(ByteClass.isDigit),
                let number = Int(String(decoding: port, as: UTF8.self)), number <= 65535
            else {
                return RequestRefusal(.badHost, "invalid port in the host")
            }
        }
        return nil
    }

    /// A comparable form: lower-cased, without a trailing dot or the scheme's default port.
    static func key(_ value: String, defaultPort: String) -> String {
        var host = value.asciiLowercased()
        if host.hasSuffix(":" + defaultPort) { host.removeLast(defaultPort.count + 1) }
        if host.hasSuffix(".") { host.removeLast() }
        return host
    }
}
