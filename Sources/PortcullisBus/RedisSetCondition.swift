/// SET's optional condition.
public struct RedisSetCondition: Sendable, Hashable {
    let token: String?

    /// Always set (no flag).
    public static let always = RedisSetCondition(token: nil)
    /// `NX`: only if the key does not exist.
    public static let ifNotExists = RedisSetCondition(token: "NX")
    /// `XX`: only if the key exists.
    public static let ifExists = RedisSetCondition(token: "XX")
}
