import NIOCore

/// The request/reply bookkeeping of one Redis connection, with no IO.
///
/// Redis answers commands in the order it receives them, so the promises of commands in
/// flight are kept in a FIFO queue and each reply completes the oldest. An error reply fails
/// only its own command. Once the connection closes or errors, every queued promise fails
/// with the same ``RedisError`` and later commands fail at once. Generic over the promise
/// type so tests can drive it without an event loop.
struct RedisCommandStateMachine<Promise> {
    private enum State {
        case active
        /// An error was seen and the channel is closing; replies still in the pipeline are
        /// ignored and the waiting promises fail when the channel goes inactive.
        case closing(RedisError)
        case closed(RedisError)
    }

    enum Action {
        case none
        /// Write the command to the channel.
        case write([RedisArgument])
        case succeed(Promise, RESPValue)
        case fail(Promise, RedisError)
        case failAll([Promise], RedisError)
        /// Close the channel; the failure reaches the promises via `channelInactive`.
        case close(RedisError)
    }

    private var state: State = .active
    /// Promises of commands written and not yet answered, oldest first. Kept outside `State`
    /// so appending never copies it.
    private var inFlight = CircularBuffer<Promise>(initialCapacity: 16)

    init() {}

    /// The number of commands written and not yet answered.
    var inFlightCount: Int { self.inFlight.count }

    /// Why the connection is closing or closed (a TLS handshake failure, a protocol error,
    /// the peer going away); nil while it is active.
    var closeReason: RedisError? {
        switch self.state {
        case .active: nil
        case .closing(let reason), .closed(let reason): reason
        }
    }

    mutating func sendCommand(_ command: [RedisArgument], promise: Promise) -> Action {
        switch self.state {
        case .active:
            self.inFlight.append(promise)
            return .write(command)
        case .closing(var error), .closed(var error):
            error.isRetrySafe = true  // never written
            return .fail(promise, error)
        }
    }

    mutating func replyReceived(_ value: RESPValue) -> Action {
        guard case .active = self.state else { return .none }
        guard let promise = self.inFlight.popFirst() else {
            let error = RedisError(
                code: .protocolViolation,
                message: "Redis sent a reply with no command waiting (pub/sub is not supported)"
            )
            self.state = .closing(error)
            return .close(error)
        }
        if case .error(let message) = value {
            return .fail(promise, RedisError(serverReply: message))
        }
        return .succeed(promise, value)
    }

    mutating func errorCaught(_ error: any Error) -> Action {
        guard case .active = self.state else { return .none }
        let redisError = (error as? RedisError) ?? RedisError.connectionClosed(underlying: error)
        self.state = .closing(redisError)
        return .close(redisError)
    }

    mutating func connectionClosed() -> Action {
        let error: RedisError
        switch self.state {
        case .active: error = RedisError.connectionClosed()
        case .closing(let reason): error = reason
        case .closed: return .none
        }
        self.state = .closed(error)
        let waiting = Array(self.inFlight)
        self.inFlight.removeAll()
        return waiting.isEmpty ? .none : .failAll(waiting, error)
    }
}
