/// The remaining time to live of a key, as reported by TTL.
public enum RedisKeyTTL: Sendable, Hashable {
    case keyMissing
    case noExpiry
    case seconds(Int)
}
