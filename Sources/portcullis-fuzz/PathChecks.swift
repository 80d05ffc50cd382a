import PortcullisHTTP

/// Invariants of ``PathNormalizer``: its output is a fixed point, free of dot segments
/// and `%00`, escapes only what must stay escaped (in upper case), merges slashes when
/// asked, and leaves the query exactly as sent. Routing and auth match on this output,
/// so any second spelling of a path it lets through is a way around a route's rules.
enum PathChecks {
    static func check(_ target: String) {
        for mergeSlashes in [true, false] {
            guard case .success(let normalized) = PathNormalizer.normalize(target, mergeSlashes: mergeSlashes) else {
                continue
            }
            checkNormalized(normalized, from: target, mergeSlashes: mergeSlashes)
        }
    }

    private static func checkNormalized(_ normalized: String, from target: String, mergeSlashes: Bool) {
        precondition(
            PathNormalizer.normalize(normalized, mergeSlashes: mergeSlashes) == .success(normalized),
            "normalizing \(normalized) again changed it (mergeSlashes \(mergeSlashes))")
        let bytes = Array(normalized.utf8)
        precondition(bytes.first == UInt8(ascii: "/"), "normalized path does not start with /")
        precondition(!normalized.contains("%00"), "normalized path holds %00")
        let queryStart = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.count
        let path = String(decoding: bytes[..<queryStart], as: UTF8.self)
        precondition(
            !path.contains("/../") && !path.contains("/./") && !path.hasSuffix("/..") && !path.hasSuffix("/."),
            "normalized path \(path) keeps a dot segment")
        if mergeSlashes {
            precondition(!path.contains("//"), "merged path \(path) keeps a run of slashes")
        }
        let original = Array(target.utf8)
        let originalQuery = original[(original.firstIndex(of: UInt8(ascii: "?")) ?? original.count)...]
        precondition(bytes[queryStart...].elementsEqual(originalQuery), "normalization changed the query")
        var index = 0
        while index < queryStart {
            if bytes[index] == UInt8(ascii: "%") {
                precondition(index + 2 < queryStart, "truncated escape in a normalized path")
                let escape = bytes[(index + 1)...(index + 2)]
                precondition(
                    escape.allSatisfy { isUpperHex($0) }, "normalized path keeps a lower-case or malformed escape")
                let value = hexValue(escape.first!) << 4 | hexValue(escape.last!)
                precondition(!isUnreserved(value), "normalized path keeps an escaped unreserved character")
                index += 3
            } else {
                index += 1
            }
        }
        let hasEncodedSeparator = path.contains("%2F") || path.contains("%5C")
        precondition(
            PathNormalizer.containsEncodedSeparator(normalized) == hasEncodedSeparator,
            "containsEncodedSeparator disagrees with the path's escapes")
    }

    private static func isUpperHex(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
    }

    private static func hexValue(_ byte: UInt8) -> UInt8 {
        byte <= UInt8(ascii: "9") ? byte - UInt8(ascii: "0") : byte - UInt8(ascii: "A") + 10
    }

    /// RFC 3986 `unreserved`, restated here so the check does not trust the table it tests.
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || "-._~".utf8.contains(byte)
    }
}
