/// Tells a client that is merely behind from a slow consumer, by how long its backlog lasts.
///
/// The backlog is what the server accepted for the client but the kernel has not taken
/// yet. Its size at one instant says little: a batch of deliveries is written in one go,
/// before the peer gets a chance to read any of it, so right after a burst even a client
/// that keeps up holds more than the limit — and drains it milliseconds later. A slow
/// consumer is a client whose backlog *stays*: over the limit, and not back under the low
/// mark, for `grace`. Memory for such a client is therefore bounded by the limit plus what
/// arrives for it during `grace`.
///
/// Owned by the connection's channel handler, which reports the backlog crossing the
/// limit and draining under the low mark (NIO's writability changes, with the route's
/// `send_queue` as the high water mark), and calls ``check(now:)`` after each write and
/// on its periodic sweep, so a silent client is caught without a write. Time is passed
/// in, so tests never sleep. Once it said ``Action/close`` it says nothing more.
public struct SlowConsumerDetector<Instant: InstantProtocol>: Sendable
where Instant: Sendable, Instant.Duration == Duration {
    public enum Action: Hashable, Sendable {
        case none
        /// The backlog lasted `grace`: close the connection as a slow consumer.
        case close
    }

    private enum State: Sendable {
        case keepingUp
        case behind(since: Instant)
        case closed
    }

    /// How long the backlog may stay over the limit.
    public let grace: Duration
    private var state: State = .keepingUp

    public init(grace: Duration) {
        precondition(grace >= .zero)
        self.grace = grace
    }

    /// When ``check(now:)`` will close if the backlog does not drain first; nil while the
    /// client keeps up (or once closed).
    public var deadline: Instant? {
        if case .behind(let since) = self.state { return since.advanced(by: self.grace) }
        return nil
    }

    /// Event: the backlog passed the limit. A client already behind stays behind since
    /// the first crossing.
    public mutating func backlogExceeded(now: Instant) {
        if case .keepingUp = self.state { self.state = .behind(since: now) }
    }

    /// Event: the backlog drained under the low mark; the client caught up.
    public mutating func backlogDrained() {
        if case .behind = self.state { self.state = .keepingUp }
    }

    /// Event: a write, or the periodic sweep.
    public mutating func check(now: Instant) -> Action {
        guard let deadline = self.deadline, now >= deadline else { return .none }
        self.state = .closed
        return .close
    }
}
