/// Strict UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above
/// U+10FFFF), so text from tokens and cookies becomes a `String` only when it is exactly
/// what was sent. `String(validating:)` would do, but needs macOS 15.
enum UTF8Validation {
    static func string<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String? {
        isValid(bytes) ? String(decoding: bytes, as: UTF8.self) : nil
    }

    static func isValid<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        var iterator = bytes.makeIterator()
        while let lead = iterator.next() {
            if lead < 0x80 { continue }
            let count: Int
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: count = 1
            case 0xE0: count = 2; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: count = 2
            case 0xED: count = 2; upper = 0x9F
            case 0xF0: count = 3; lower = 0x90
            case 0xF1...0xF3: count = 3
            case 0xF4: count = 3; upper = 0x8F
            default: return false
            }
            for position in 0..<count {
                guard let next = iterator.next() else { return false }
                if position == 0 {
                    guard next >= lower, next <= upper else { return false }
                } else {
                    guard next >= 0x80, next <= 0xBF else { return false }
                }
            }
        }
        return true
    }
}
