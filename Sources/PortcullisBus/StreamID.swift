/// A Redis stream entry id, `<milliseconds>-<sequence>`, both unsigned 64-bit.
///
/// Ordered numerically (milliseconds, then sequence), never as text: `5-10` > `5-9`.
public struct StreamID: Sendable, Hashable, Comparable {
    public var milliseconds: UInt64
    public var sequence: UInt64

    public init(milliseconds: UInt64, sequence: UInt64 = 0) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// `0-0`: before every entry (read from the start; XAUTOCLAIM's "scan complete").
    public static let zero = StreamID(milliseconds: 0, sequence: 0)
    /// `18446744073709551615-18446744073709551615`: after every entry.
    public static let max = StreamID(milliseconds: .max, sequence: .max)

    /// The smallest id greater than this one (for exclusive range scans), or nil at ``max``.
    public var successor: StreamID? {
        if self.sequence < .max {
            return StreamID(milliseconds: self.milliseconds, sequence: self.sequence + 1)
        }
        if self.milliseconds < .max {
            return StreamID(milliseconds: self.milliseconds + 1, sequence: 0)
        }
        return nil
    }

    public static func < (lhs: StreamID, rhs: StreamID) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}

extension StreamID: LosslessStringConvertible {
    /// Parses `ms-seq`. An id without a sequence (`ms`) means `ms-0`, as in XADD and XREAD.
    public init?(_ description: String) {
        let parts = description.utf8.split(separator: UInt8(ascii: "-"), maxSplits: 1, omittingEmptySubsequences: false)
        guard let milliseconds = Self.parse(parts[0]) else { return nil }
        if parts.count == 1 {
            self.init(milliseconds: milliseconds)
            return
        }
        guard let sequence = Self.parse(parts[1]) else { return nil }
        self.init(milliseconds: milliseconds, sequence: sequence)
    }

    public var description: String {
        "\(self.milliseconds)-\(self.sequence)"
    }

    /// Strict decimal: digits only, no sign, no overflow.
    private static func parse(_ digits: Substring.UTF8View) -> UInt64? {
        guard !digits.isEmpty, digits.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }
}
