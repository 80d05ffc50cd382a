/// The request/reply bookkeeping of one Redis connection, with no IO.
///
/// Redis answers commands in the order it receives them, so the promises of commands in
/// flight are kept in a FIFO queue and each reply completes the oldest. An error reply fails
/// only its own command. Once the connection closes or errors, every queued promise fails
/// with the same ``RedisError`` and later commands fail at once. Generic over the promise
/// type so tests can drive it without an event loop.
struct RedisCommandStateMachine<Promise> {
    private enum State {
        case active(CircularBuffer<Promise>)
        /// An error was seen and the channel is closing; replies still in the pipeline are
        /// ignored and the waiting promises fail when the channel goes inactive.
        case closing(CircularBuffer<Promise>, RedisError)
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

    private var state: State = .active(CircularBuffer(initialCapacity: 16))

    init() {}

    /// The number of commands written and not yet answered.
    var inFlightCount: Int {
        switch self.state {
        case .active(let queue), .closing(let queue, _): queue.count
        case .closed: 0
        }
    }

    mutating func sendCommand(_ command: [RedisArgument], promise: Promise) -> Action {
        switch self.state {
        case .active(var queue):
            queue.append(promise)
            self.state = .active(queue)
            return .write(command)
        case .closing(_, let error), .closed(let error):
            return .fail(promise, error)
        }
    }

    mutating func replyReceived(_ value: RESPValue) -> Action {
        switch self.state {
        case .active(var queue):
            guard let promise = queue.popFirst() else {
                let error = RedisError(
                    code: .protocolViolation,
                    message: "Redis sent a reply with no command waiting (pub/sub is not supported)"
                )
                self.state = .closing(queue, error)
                return .close(error)
            }
            self.state = .active(queue)
            if case .error(let message) = value {
                return .fail(promise, RedisError(serverReply: message))
            }
            return .succeed(promise, value)
        case .closing, .closed:
            return .none
        }
    }

    mutating func errorCaught(_ error: any Error) -> Action {
        switch self.state {
        case .active(let queue):
            let redisError =
                (error as? RedisError) ?? RedisError.connectionClosed(underlying: error)
            self.state = .closing(queue, redisError)
            return .close(redisError)
        case .closing, .closed:
            return .none
        }
    }

    mutating func connectionClosed() -> Action {
        switch self.state {
        case .active(let queue):
            let error = RedisError.connectionClosed()
            self.state = .closed(error)
            return queue.isEmpty ? .none : .failAll(Array(queue), error)
        case .closing(let queue, let error):
            self.state = .closed(error)
            return queue.isEmpty ? .none : .failAll(Array(queue), error)
        case .closed:
            return .none
        }
    }
}
