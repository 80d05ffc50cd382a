#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Parsers for the value syntaxes the conf file uses. Public because the CLI parses the
/// same syntaxes in flags (`--drain-timeout 5s`). Each returns nil for text it rejects;
/// callers word the error.
public enum ConfigValue {
    private static let durationUnits: [(unit: String, milliseconds: Int64)] = [
        ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1),
    ]

    private static let sizeUnits: [String: Int] = [
        "B": 1,
        "KB": 1_000, "MB": 1_000_000, "GB": 1_000_000_000,
        "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
    ]

    /// A duration: one or more `<integer><unit>` parts with units `d`, `h`, `m`, `s`, `ms`,
    /// largest first and each at most once: `500ms`, `30s`, `5m`, `1h`, `1d`, `1m30s`.
    /// A bare number is rejected: `30` could mean seconds or milliseconds.
    public static func duration(_ text: String) -> Duration? {
        let chars = Array(text.utf8)
        var index = 0
        var total: Int64 = 0
        var previousRank = -1
        guard !chars.isEmpty else { return nil }
        while index < chars.count {
            var number: Int64 = 0
            let digitsStart = index
            while index < chars.count, let digit = digitValue(chars[index]) {
                let (times, overflow1) = number.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(Int64(digit))
                guard !overflow1, !overflow2 else { return nil }
                number = sum
                index += 1
            }
            let unitStart = index
            while index < chars.count, chars[index] >= UInt8(ascii: "a"), chars[index] <= UInt8(ascii: "z") {
                index += 1
            }
            guard index > digitsStart, unitStart > digitsStart, index > unitStart else { return nil }
            let unit = String(decoding: chars[unitStart..<index], as: UTF8.self)
            guard let rank = durationUnits.firstIndex(where: { $0.unit == unit }), rank > previousRank else {
                return nil
            }
            previousRank = rank
            let (part, overflow1) = number.multipliedReportingOverflow(by: durationUnits[rank].milliseconds)
            let (sum, overflow2) = total.addingReportingOverflow(part)
            guard !overflow1, !overflow2 else { return nil }
            total = sum
        }
        return .milliseconds(total)
    }

    /// A byte count: an integer with an optional unit, `512`, `512B`, `64KiB`, `1MiB`, `1GiB`
    /// (powers of 1024) or `10KB`, `1MB`, `1GB` (powers of 1000).
    public static func size(_ text: String) -> Int? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let number = Int(digits) else { return nil }
        let unit = text.dropFirst(digits.count)
        guard let multiplier = unit.isEmpty ? 1 : sizeUnits[String(unit)] else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : bytes
    }

    /// A host and port: `0.0.0.0:8443`, `[::1]:8080`, `localhost:80`. IPv6 addresses need
    /// brackets; the port is 0...65535. The returned host has no brackets.
    public static func hostPort(_ text: String) -> HostPort? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
            guard isIPv6(String(host)) else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard isHostName(host) else { return nil }
        }
        guard (1...5).contains(portText.count), portText.allSatisfy({ $0.isASCII && $0.isNumber }),
            let port = Int(portText), port <= 65535
        else { return nil }
        return HostPort(host: String(host), port: port)
    }

    /// A DNS name or dotted IPv4 address (a name made only of digits and dots must be a
    /// valid IPv4 address, so `300.1.1.1` is rejected rather than looked up).
    static func isHostName(_ host: Substring) -> Bool {
        guard !host.isEmpty, host.count <= 253 else { return false }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard (1...63).contains(label.count),
                label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            else { return false }
        }
        if host.allSatisfy({ $0 == "." || ($0.isASCII && $0.isNumber) }) {
            var address = in_addr()
            return inet_pton(AF_INET, String(host), &address) == 1
        }
        return true
    }

    /// An IPv6 address, optionally with a `%zone` suffix.
    static func isIPv6(_ host: String) -> Bool {
        var address = host
        if let percent = host.firstIndex(of: "%") {
            let zone = host[host.index(after: percent)...]
            guard !zone.isEmpty, zone.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                return false
            }
            address = String(host[..<percent])
        }
        var storage = in6_addr()
        return inet_pton(AF_INET6, address, &storage) == 1
    }

    private static func digitValue(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
    }
}
