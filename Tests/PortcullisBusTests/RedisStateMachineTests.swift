import Testing

@testable import PortcullisBus

/// The connection and client state machines, driven event by event with no channel and no
/// clock.
@Suite struct RedisCommandStateMachineTests {
    @Test func repliesCompletePromisesFirstInFirstOut() {
        var machine = RedisCommandStateMachine<Int>()
        for promise in 1...3 {
            guard case .write = machine.sendCommand(["PING"], promise: promise) else {
                Issue.record("expected a write")
                return
            }
        }
        for expected in 1...3 {
            guard case .succeed(let promise, .integer(expected)) = machine.replyReceived(.integer(expected)) else {
                Issue.record("expected success")
                return
            }
            #expect(promise == expected)
        }
        #expect(machine.inFlightCount == 0)
    }

    @Test func errorReplyFailsOnlyItsOwnCommand() {
        var machine = RedisCommandStateMachine<Int>()
        _ = machine.sendCommand(["GET", "a"], promise: 1)
        _ = machine.sendCommand(["GET", "b"], promise: 2)
        guard case .fail(1, let error) = machine.replyReceived(.error("NOGROUP no such group")) else {
            Issue.record("expected the first command to fail")
            return
        }
        #expect(error.serverCode == "NOGROUP")
        guard case .succeed(2, _) = machine.replyReceived(.nullBulkString) else {
            Issue.record("expected the second command to succeed")
            return
        }
    }

    @Test func closeFailsEverythingInFlightAndLaterCommands() {
        var machine = RedisCommandStateMachine<Int>()
        _ = machine.sendCommand(["PING"], promise: 1)
        _ = machine.sendCommand(["PING"], promise: 2)
        guard case .failAll([1, 2], let error) = machine.connectionClosed() else {
            Issue.record("expected every in-flight command to fail")
            return
        }
        #expect(error.code == .connectionClosed)
        #expect(!error.isRetrySafe, "in flight: Redis may have run it")
        guard case .fail(3, let later) = machine.sendCommand(["PING"], promise: 3) else {
            Issue.record("expected a command after close to fail at once")
            return
        }
        #expect(later.code == .connectionClosed)
        #expect(later.isRetrySafe, "never written")
    }

    @Test func errorClosesAndFailsInFlightWithThatError() {
        var machine = RedisCommandStateMachine<Int>()
        _ = machine.sendCommand(["PING"], promise: 1)
        let protocolError = RedisError(code: .protocolViolation, message: "bad")
        guard case .close = machine.errorCaught(protocolError) else {
            Issue.record("expected close")
            return
        }
        guard case .none = machine.replyReceived(.simpleString("PONG")) else {
            Issue.record("replies after an error are ignored")
            return
        }
        guard case .failAll([1], let error) = machine.connectionClosed() else {
            Issue.record("expected failAll")
            return
        }
        #expect(error.code == .protocolViolation)
    }

    @Test func replyWithNoCommandWaitingClosesTheConnection() {
        var machine = RedisCommandStateMachine<Int>()
        guard case .close(let error) = machine.replyReceived(.simpleString("OK")) else {
            Issue.record("expected close")
            return
        }
        #expect(error.code == .protocolViolation)
    }
}

@Suite struct RedisClientStateMachineTests {
    final class Connection {}
    typealias Machine = RedisClientStateMachine<Connection, Int>

    static func machine(commands: Int = 100, bytes: Int = 1 << 20) -> Machine {
        Machine(
            limits: .init(maximumCommands: commands, maximumBytes: bytes),
            backoff: RedisBackoff(initialDelay: .milliseconds(50), maximumDelay: .seconds(2), jitter: 0.5),
            random: { 1.0 }  // no jitter reduction: the delay is the capped exponential
        )
    }

    @Test func commandsIssuedWhileConnectingAreSentInOrderOnConnect() {
        var machine = Self.machine()
        for promise in 1...3 {
            guard case .none = machine.sendCommand(["SET", "k", RedisArgument(promise)], promise: promise) else {
                Issue.record("expected buffering")
                return
            }
        }
        #expect(machine.bufferedCount == 3)
        let connection = Connection()
        guard case .sendBuffered(let sent, let buffered) = machine.connectSucceeded(connection) else {
            Issue.record("expected the buffer to be sent")
            return
        }
        #expect(sent === connection)
        #expect(buffered.map(\.promise) == [1, 2, 3])
        #expect(machine.bufferedCount == 0)
        guard case .send(_, _, 4) = machine.sendCommand(["PING"], promise: 4) else {
            Issue.record("expected a direct send once connected")
            return
        }
    }

    @Test func pastTheCountBoundCommandsFailWithBufferFull() {
        var machine = Self.machine(commands: 2)
        _ = machine.sendCommand(["PING"], promise: 1)
        _ = machine.sendCommand(["PING"], promise: 2)
        guard case .fail(3, let error) = machine.sendCommand(["PING"], promise: 3) else {
            Issue.record("expected bufferFull")
            return
        }
        #expect(error.code == .bufferFull)
        #expect(error.isRetrySafe)
        #expect(machine.bufferedCount == 2)
    }

    @Test func pastTheByteBoundCommandsFailWithBufferFull() {
        var machine = Self.machine(bytes: 10)
        guard case .none = machine.sendCommand(["SET", "k", "12345"], promise: 1) else {  // 9 bytes
            Issue.record("expected buffering")
            return
        }
        guard case .fail(2, let error) = machine.sendCommand(["GET", "k"], promise: 2) else {  // 4 more
            Issue.record("expected bufferFull")
            return
        }
        #expect(error.code == .bufferFull)
    }

    @Test func reconnectWaitsGrowExponentiallyUpToTheCap() {
        var machine = Self.machine()
        var delays: [Duration] = []
        for _ in 0..<8 {
            guard case .scheduleReconnect(let delay, _, _) = machine.connectFailed(RedisError.connectionClosed()) else {
                Issue.record("expected a reconnect")
                return
            }
            delays.append(delay)
            guard case .connect = machine.reconnectTimerFired() else {
                Issue.record("expected connect")
                return
            }
        }
        #expect(delays == [100, 200, 400, 800, 1600, 2000, 2000, 2000].map { .milliseconds($0) })

        let connection = Connection()
        _ = machine.connectSucceeded(connection)
        guard case .scheduleReconnect(let delay, 0, nil) = machine.connectionClosed(connection) else {
            Issue.record("expected a reconnect after loss")
            return
        }
        #expect(delay == .milliseconds(50))
    }

    @Test func closeOfAnOldConnectionIsIgnored() {
        var machine = Self.machine()
        let old = Connection()
        _ = machine.connectSucceeded(old)
        _ = machine.connectionClosed(old)
        _ = machine.reconnectTimerFired()
        _ = machine.connectSucceeded(Connection())
        guard case .none = machine.connectionClosed(old) else {
            Issue.record("a stale close must not trigger a reconnect")
            return
        }
        #expect(machine.isConnected)
    }

    @Test func closeFailsBufferedCommandsAndCancelsTheTimer() {
        var machine = Self.machine()
        _ = machine.connectFailed(RedisError.connectionClosed())
        _ = machine.sendCommand(["PING"], promise: 1)
        guard case .shutDown(nil, cancelTimer: true, failing: [1], let error) = machine.close() else {
            Issue.record("expected shutdown")
            return
        }
        #expect(error.code == .clientClosed)
        guard case .fail(2, _) = machine.sendCommand(["PING"], promise: 2) else {
            Issue.record("expected commands after close to fail")
            return
        }
    }

    @Test func connectionArrivingAfterCloseIsClosed() {
        var machine = Self.machine()
        _ = machine.close()
        let late = Connection()
        guard case .closeConnection(let connection) = machine.connectSucceeded(late) else {
            Issue.record("expected the late connection to be closed")
            return
        }
        #expect(connection === late)
    }
}

@Suite struct RedisBackoffTests {
    @Test func jitterShortensTheWaitByAtMostItsFraction() {
        let backoff = RedisBackoff(initialDelay: .milliseconds(100), maximumDelay: .seconds(1), jitter: 0.5)
        #expect(backoff.delay(attempt: 0, random: 0) == .milliseconds(50))
        #expect(backoff.delay(attempt: 0, random: 0.5) == .milliseconds(75))
        #expect(backoff.delay(attempt: 2, random: 1) == .milliseconds(400))
        #expect(backoff.delay(attempt: 1000, random: 1) == .seconds(1))
    }
}
