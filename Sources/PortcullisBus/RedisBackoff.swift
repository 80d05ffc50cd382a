/// How long a ``RedisClient`` waits before each reconnect attempt: exponential growth from
/// `initialDelay` by `multiplier`, capped at `maximumDelay`, with random jitter so that many
/// clients losing the same server do not reconnect in lockstep.
///
/// Attempt 0 is the wait after a working connection was lost; each failed attempt adds one.
/// With the defaults the waits are about 50 ms, 100 ms, 200 ms … 2 s, 2 s, each shortened by
/// up to half (`jitter` 0.5) at random.
public struct RedisBackoff: Sendable, Hashable {
    public var initialDelay: Duration
    public var maximumDelay: Duration
    public var multiplier: Double
    /// The fraction (0…1) of each delay that is random: the wait is drawn uniformly from
    /// `delay × (1 − jitter) … delay`.
    public var jitter: Double

    public init(
        initialDelay: Duration = .milliseconds(50),
        maximumDelay: Duration = .seconds(2),
        multiplier: Double = 2,
        jitter: Double = 0.5
    ) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The wait before attempt `attempt`, given `random` uniformly drawn from `0..<1`.
    public func delay(attempt: Int, random: Double) -> Duration {
        let initial = Self.seconds(self.initialDelay)
        let maximum = Self.seconds(self.maximumDelay)
        // Past ~64 doublings the cap has long been reached; avoid overflowing pow.
        let exponent = Double(min(max(attempt, 0), 64))
        let capped = min(maximum, initial * Self.power(self.multiplier, exponent))
        let jitter = min(max(self.jitter, 0), 1)
        let fraction = (1 - jitter) + jitter * min(max(random, 0), 1)
        return .nanoseconds(Int64((capped * fraction * 1e9).rounded()))
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    private static func power(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        var remaining = Int(exponent)
        while remaining > 0 {
            result *= base
            remaining -= 1
            if result.isInfinite { break }
        }
        return result
    }
}
