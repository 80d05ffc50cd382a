/// Per-connection message rate limit: a token bucket that refills at `rate` tokens per
/// second up to `burst`, one token per message.
///
/// A refused message is answered with an error by the handler; `closeAfter` refusals in a
/// row (no accepted message in between) mean the client ignores the errors, and the
/// connection is closed. Time is passed in, so tests never sleep.
public struct MessageRateLimiter<Instant: InstantProtocol>: Sendable
where Instant: Sendable, Instant.Duration == Duration {
    public enum Decision: Hashable, Sendable {
        case accept
        /// Refuse this message and tell the client.
        case refuse
        /// Refused persistently: close the connection.
        case close
    }

    public let rate: Double
    public let burst: Double
    public let closeAfter: Int
    private var tokens: Double
    private var refilledAt: Instant
    private var refusedInARow = 0

    public init(rate: Double, burst: Int, closeAfter: Int, now: Instant) {
        precondition(rate > 0 && burst >= 1 && closeAfter >= 1)
        self.rate = rate
        self.burst = Double(burst)
        self.closeAfter = closeAfter
        self.tokens = Double(burst)
        self.refilledAt = now
    }

    /// Event: a message arrived.
    public mutating func message(now: Instant) -> Decision {
        let elapsed = self.refilledAt.duration(to: now)
        if elapsed > .zero {
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            self.tokens = min(self.burst, self.tokens + seconds * self.rate)
            self.refilledAt = now
        }
        if self.tokens >= 1 {
            self.tokens -= 1
            self.refusedInARow = 0
            return .accept
        }
        self.refusedInARow += 1
        return self.refusedInARow >= self.closeAfter ? .close : .refuse
    }
}
