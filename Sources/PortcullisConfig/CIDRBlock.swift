#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IP network (`10.0.0.0/8`, `::1/128`); a bare address is a network of one.
///
/// IPv4 addresses are kept as IPv4-mapped IPv6 (`::ffff:a.b.c.d`), so one 128-bit
/// comparison serves both families and a v4 peer seen on a dual-stack socket matches a
/// v4 network.
public struct CIDRBlock: Hashable, Sendable, CustomStringConvertible {
    private let network: (UInt64, UInt64)
    private let mask: (UInt64, UInt64)
    public let description: String

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let (address, isV4) = Self.parse(String(parts[0])) else { return nil }
        var prefix = isV4 ? 32 : 128
        if parts.count == 2 {
            guard let value = Int(parts[1]), value >= 0, value <= prefix, parts[1].allSatisfy(\.isNumber) else {
                return nil
            }
            prefix = value
        }
        let bits = isV4 ? prefix + 96 : prefix
        let high: UInt64 = bits >= 64 ? .max : (bits == 0 ? 0 : .max << (64 - bits))
        let low: UInt64 = bits <= 64 ? 0 : (bits == 128 ? .max : .max << (128 - bits))
        mask = (high, low)
        network = (address.0 & high, address.1 & low)
        description = text
    }

    public static func == (lhs: CIDRBlock, rhs: CIDRBlock) -> Bool {
        lhs.network == rhs.network && lhs.mask == rhs.mask
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(network.0)
        hasher.combine(network.1)
        hasher.combine(mask.0)
        hasher.combine(mask.1)
    }

    /// Whether `address` (textual IPv4 or IPv6, no brackets or port) is in this network.
    public func contains(_ address: String) -> Bool {
        guard let (value, _) = Self.parse(address) else { return false }
        return (value.0 & mask.0) == network.0 && (value.1 & mask.1) == network.1
    }

    /// 128 bits of an address (IPv4 mapped) and whether it was IPv4.
    private static func parse(_ text: String) -> ((UInt64, UInt64), Bool)? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            let value = UInt64(UInt32(bigEndian: v4.s_addr))
            return ((0, 0x0000_FFFF_0000_0000 | value), true)
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return ((high, low), false)
    }
}
