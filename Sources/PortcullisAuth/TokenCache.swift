/// Remembers tokens whose signature already verified, so a client reconnecting with the
/// same token costs a SHA-256 instead of an RSA or ECDSA verification.
///
/// - Key: SHA-256 of the token text; the token itself is not kept.
/// - Value: the token's claims (route-independent). On a hit the verifier re-applies
///   its policy — times, issuer, audience, scopes — so one cache serves every route.
/// - Scope: an entry is served only to a verifier whose key set has the generation it
///   was verified under; after a reload (a key retired) every token verifies afresh.
/// - Lifetime: an entry is dropped once `now` reaches the token's `exp`.
/// - Bound: at most `capacity` entries; a full cache evicts by the CLOCK algorithm
///   (an approximation of LRU needing one bit per entry), preferring expired entries.
/// - Revocation is not cached here: callers check `jti`/subject revocation after every
///   successful verification, hit or miss.
///
/// Thread-safe: one lock around short critical sections, no allocation under the lock
/// beyond the entry itself.
public final class TokenCache: @unchecked Sendable {
    // Unchecked: all mutable state is behind `lock`.

    /// The SHA-256 of a token, as four words for cheap hashing.
    struct Key: Hashable, Sendable {
        var words: (UInt64, UInt64, UInt64, UInt64)

        init(token: [UInt8]) {
            let digest = MessageDigest.sha256.digest(token)
            func word(_ offset: Int) -> UInt64 {
                var value: UInt64 = 0
                for index in offset..<offset + 8 { value = value << 8 | UInt64(digest[index]) }
                return value
            }
            words = (word(0), word(8), word(16), word(24))
        }

        static func == (lhs: Key, rhs: Key) -> Bool {
            lhs.words == rhs.words
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(words.0)
            hasher.combine(words.1)
            hasher.combine(words.2)
            hasher.combine(words.3)
        }
    }

    /// Counters since creation, for metrics.
    public struct Statistics: Sendable, Hashable {
        public var hits = 0
        public var misses = 0
        public var evictions = 0
        public var count = 0
    }

    private struct Slot {
        var key: Key
        var claims: VerifiedClaims
        var generation: UInt64
        var referenced: Bool
    }

    public let capacity: Int
    private let lock = Lock()
    private var slots: [Slot?] = []
    private var index: [Key: Int] = [:]
    private var free: [Int] = []
    private var hand = 0
    private var counters = Statistics()

    /// `capacity` is clamped to at least 1.
    public init(capacity: Int = 10_000) {
        self.capacity = max(capacity, 1)
    }

    public var statistics: Statistics {
        lock.withLock {
            var snapshot = counters
            snapshot.count = index.count
            return snapshot
        }
    }

    public var count: Int {
        lock.withLock { index.count }
    }

    public func removeAll() {
        lock.withLock {
            slots.removeAll()
            index.removeAll()
            free.removeAll()
            hand = 0
        }
    }

    func lookup(_ key: Key, generation: UInt64, now: Double) -> VerifiedClaims? {
        lock.withLock {
            guard let position = index[key], let slot = slots[position] else {
                counters.misses += 1
                return nil
            }
            guard slot.generation == generation, now < slot.claims.expiration else {
                remove(at: position)
                counters.misses += 1
                return nil
            }
            slots[position]!.referenced = true
            counters.hits += 1
            return slot.claims
        }
    }

    func insert(_ key: Key, _ claims: VerifiedClaims, generation: UInt64, now: Double) {
        guard now < claims.expiration else { return }
        let slot = Slot(key: key, claims: claims, generation: generation, referenced: false)
        lock.withLock {
            if let position = index[key] {
                slots[position] = slot
                return
            }
            let position: Int
            if let reusable = free.popLast() {
                position = reusable
            } else if slots.count < capacity {
                slots.append(nil)
                position = slots.count - 1
            } else {
                position = victim(now: now)
                if let evicted = slots[position] {
                    index[evicted.key] = nil
                    counters.evictions += 1
                }
            }
            slots[position] = slot
            index[key] = position
        }
    }

    /// The CLOCK hand: clears reference bits until it finds an unreferenced or expired
    /// entry. Terminates within two turns.
    private func victim(now: Double) -> Int {
        while true {
            let position = hand
            hand = (hand + 1) % slots.count
            guard let slot = slots[position] else { return position }
            if !slot.referenced || now >= slot.claims.expiration {
                return position
            }
            slots[position]!.referenced = false
        }
    }

    private func remove(at position: Int) {
        guard let slot = slots[position] else { return }
        index[slot.key] = nil
        slots[position] = nil
        free.append(position)
    }
}
