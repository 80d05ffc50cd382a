/// The Redis Cluster hash slot of a key: CRC16 (XMODEM: polynomial 0x1021, initial value
/// 0, no reflection) of the key modulo 16384, as the cluster specification defines it.
///
/// When a key holds a `{…}` with at least one byte between the first `{` and the next
/// `}`, only those bytes are hashed (a hash tag), so `{user1000}.following` and
/// `{user1000}.followers` share a slot. `{}` and an unclosed `{` hash the whole key.
public enum RedisKeySlot {
    /// The number of hash slots in a cluster.
    public static let count = 16384

    /// The slot of `key`, given as its bytes.
    public static func slot(of key: some Collection<UInt8>) -> Int {
        Int(Self.crc16(Self.hashedPart(of: key)) & UInt16(Self.count - 1))
    }

    /// The slot of `key` (its UTF-8 bytes).
    public static func slot(of key: String) -> Int {
        Self.slot(of: key.utf8)
    }

    /// The part of `key` that is hashed: the hash tag's contents when there is a non-empty
    /// one, the whole key otherwise.
    static func hashedPart<Key: Collection<UInt8>>(of key: Key) -> Key.SubSequence {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")) else { return key[...] }
        let inside = key[key.index(after: open)...]
        guard let close = inside.firstIndex(of: UInt8(ascii: "}")), close != inside.startIndex else {
            return key[...]
        }
        return inside[..<close]
    }

    static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ Self.table[Int((crc >> 8) ^ UInt16(byte))]
        }
        return crc
    }

    /// CRC16-XMODEM of every byte value, computed once.
    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
