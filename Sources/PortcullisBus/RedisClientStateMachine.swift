import NIOCore

/// The connect / reconnect / buffer logic of ``RedisClient``, with no IO and no clock.
///
/// While connected, commands go straight to the connection. While connecting or waiting to
/// reconnect, they queue in a buffer bounded by count and bytes; past either bound a command
/// fails at once with ``RedisError/Code/bufferFull`` (retry-safe: it was never sent). The
/// buffer is sent in order as soon as a connection (with its AUTH/SELECT) is up. Commands in
/// flight on a lost connection are failed by the connection, not replayed here. Reconnect
/// waits come from ``RedisBackoff`` with an injected random source, so tests can predict
/// them. Generic over the connection and promise types so tests need no event loop.
struct RedisClientStateMachine<Connection: AnyObject, Promise> {
    struct BufferedCommand {
        var command: [RedisArgument]
        var promise: Promise
        var byteCount: Int
    }

    private enum State {
        /// A connect attempt is running; `failures` consecutive attempts failed before it.
        case connecting(failures: Int)
        case connected(Connection)
        /// A reconnect timer is running.
        case waiting(failures: Int)
        case closed
    }

    enum Action {
        case none
        /// Start a connect attempt; report it with `connectSucceeded` or `connectFailed`.
        case connect
        case send(Connection, [RedisArgument], Promise)
        /// A connection is up: send these (possibly none) in order before anything else.
        case sendBuffered(Connection, [BufferedCommand])
        case fail(Promise, RedisError)
        /// Wait, then call `reconnectTimerFired`. `failures` and `lastError` are for logs.
        case scheduleReconnect(after: Duration, failures: Int, lastError: (any Error)?)
        /// A connection arrived after `close()`.
        case closeConnection(Connection)
        /// `close()`: close the connection if any, cancel the timer if any, fail the buffer.
        case shutDown(Connection?, cancelTimer: Bool, failing: [Promise], RedisError)
    }

    private var state: State = .connecting(failures: 0)
    /// Commands waiting for a connection (only non-empty while connecting or waiting). Kept
    /// outside `State` so appending never copies it.
    private var buffer = CircularBuffer<BufferedCommand>()
    private var bufferedBytes = 0
    private let limits: RedisConfiguration.BufferLimits
    private let backoff: RedisBackoff
    private let random: () -> Double

    /// Starts in the connecting state: the owner runs `.connect` right after creating it.
    init(limits: RedisConfiguration.BufferLimits, backoff: RedisBackoff, random: @escaping () -> Double) {
        self.limits = limits
        self.backoff = backoff
        self.random = random
    }

    /// The number of commands waiting for a connection.
    var bufferedCount: Int { self.buffer.count }

    /// The connection commands go to right now, if any.
    var connection: Connection? {
        if case .connected(let connection) = self.state { connection } else { nil }
    }

    var isConnected: Bool {
        if case .connected = self.state { true } else { false }
    }

    mutating func sendCommand(_ command: [RedisArgument], promise: Promise) -> Action {
        switch self.state {
        case .connected(let connection):
            return .send(connection, command, promise)
        case .connecting, .waiting:
            return self.bufferCommand(command, promise: promise)
        case .closed:
            return .fail(promise, RedisError(code: .clientClosed, message: "Redis client is closed", isRetrySafe: true))
        }
    }

    mutating func connectSucceeded(_ connection: Connection) -> Action {
        switch self.state {
        case .connecting:
            self.state = .connected(connection)
            return .sendBuffered(connection, self.takeBuffer())
        case .closed:
            return .closeConnection(connection)
        case .connected, .waiting:
            preconditionFailure("connect finished while no connect attempt was running")
        }
    }

    mutating func connectFailed(_ error: any Error) -> Action {
        switch self.state {
        case .connecting(let failures):
            let failures = failures + 1
            self.state = .waiting(failures: failures)
            return .scheduleReconnect(after: self.delay(failures), failures: failures, lastError: error)
        case .closed:
            return .none
        case .connected, .waiting:
            preconditionFailure("connect failed while no connect attempt was running")
        }
    }

    /// `connection` closed. Ignored unless it is the current connection.
    mutating func connectionClosed(_ connection: Connection) -> Action {
        guard case .connected(let current) = self.state, current === connection else { return .none }
        self.state = .waiting(failures: 0)
        return .scheduleReconnect(after: self.delay(0), failures: 0, lastError: nil)
    }

    mutating func reconnectTimerFired() -> Action {
        guard case .waiting(let failures) = self.state else { return .none }
        self.state = .connecting(failures: failures)
        return .connect
    }

    mutating func close() -> Action {
        let error = RedisError(code: .clientClosed, message: "Redis client closed before sending", isRetrySafe: true)
        let connection: Connection?
        let cancelTimer: Bool
        switch self.state {
        case .connected(let current):
            (connection, cancelTimer) = (current, false)
        case .connecting:
            (connection, cancelTimer) = (nil, false)
        case .waiting:
            (connection, cancelTimer) = (nil, true)
        case .closed:
            return .none
        }
        self.state = .closed
        return .shutDown(connection, cancelTimer: cancelTimer, failing: self.takeBuffer().map(\.promise), error)
    }

    private mutating func bufferCommand(_ command: [RedisArgument], promise: Promise) -> Action {
        let byteCount = command.reduce(0) { $0 + $1.byteCount }
        guard self.buffer.count < self.limits.maximumCommands,
            self.bufferedBytes + byteCount <= self.limits.maximumBytes
        else {
            let error = RedisError(
                code: .bufferFull,
                message:
                    "Redis is unreachable and \(self.buffer.count) commands (\(self.bufferedBytes) bytes) are waiting",
                isRetrySafe: true
            )
            return .fail(promise, error)
        }
        self.buffer.append(BufferedCommand(command: command, promise: promise, byteCount: byteCount))
        self.bufferedBytes += byteCount
        return .none
    }

    private mutating func takeBuffer() -> [BufferedCommand] {
        let commands = Array(self.buffer)
        self.buffer.removeAll()
        self.bufferedBytes = 0
        return commands
    }

    private func delay(_ attempt: Int) -> Duration {
        self.backoff.delay(attempt: attempt, random: self.random())
    }
}
