/// Incremental UTF-8 validator that can be fed a message in arbitrary pieces.
///
/// Invariant: between calls it remembers only how many continuation bytes the current
/// code point still needs and the legal range of the *next* byte, so a code point split
/// across WebSocket fragments validates exactly as if it were contiguous, and the first
/// illegal byte is reported as soon as it is seen (fail fast), not at message end.
/// The ranges follow the Unicode well-formed byte sequence table (Table 3-7), which
/// rejects overlongs (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF), code
/// points above U+10FFFF (F4 90.., F5..FF) and stray continuation bytes.
public struct UTF8StreamValidator: Hashable, Sendable {
    private var pending: UInt8 = 0
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    public init() {}

    /// True when no code point is half-finished; a message may only end here.
    public var isAtBoundary: Bool {
        self.pending == 0
    }

    /// Feeds more bytes. Returns false at the first invalid byte; after that the
    /// validator's state is meaningless and the message must be rejected.
    public mutating func validate(_ bytes: some Sequence<UInt8>) -> Bool {
        for byte in bytes {
            if self.pending == 0 {
                if byte < 0x80 { continue }
                switch byte {
                case 0xC2...0xDF: self.expect(1, 0x80, 0xBF)
                case 0xE0: self.expect(2, 0xA0, 0xBF)
                case 0xE1...0xEC, 0xEE...0xEF: self.expect(2, 0x80, 0xBF)
                case 0xED: self.expect(2, 0x80, 0x9F)
                case 0xF0: self.expect(3, 0x90, 0xBF)
                case 0xF1...0xF3: self.expect(3, 0x80, 0xBF)
                case 0xF4: self.expect(3, 0x80, 0x8F)
                default: return false
                }
            } else {
                guard byte >= self.lower && byte <= self.upper else { return false }
                self.expect(self.pending - 1, 0x80, 0xBF)
            }
        }
        return true
    }

    /// Validates a complete byte sequence in one go.
    public static func isValid(_ bytes: some Sequence<UInt8>) -> Bool {
        var validator = UTF8StreamValidator()
        return validator.validate(bytes) && validator.isAtBoundary
    }

    /// The same for raw bytes: other modules call this one, specialized here, instead of
    /// the generic one, which they could only run unspecialized (through witness tables,
    /// byte by byte) on every delivered message.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var validator = UTF8StreamValidator()
        return validator.validate(bytes) && validator.isAtBoundary
    }

    private mutating func expect(_ pending: UInt8, _ lower: UInt8, _ upper: UInt8) {
        self.pending = pending
        self.lower = lower
        self.upper = upper
    }
}
