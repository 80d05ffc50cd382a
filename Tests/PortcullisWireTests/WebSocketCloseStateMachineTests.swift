import PortcullisWire
import Testing

@Suite struct WebSocketCloseStateMachineTests {
    typealias Machine = WebSocketCloseStateMachine<FakeInstant>

    @Test func peerInitiatedCloseIsEchoedAndTCPClosedImmediately() {
        var machine = Machine()
        let action = machine.closeReceived(WebSocketClose(code: .goingAway, reason: "bye"))
        #expect(action == .sendCloseAndCloseConnection(WebSocketClose(code: .goingAway)))
        #expect(machine.isClosing)
    }

    @Test func peerCloseWithoutCodeIsAnsweredWith1000() {
        var machine = Machine()
        let action = machine.closeReceived(WebSocketClose(code: .noStatusReceived))
        #expect(action == .sendCloseAndCloseConnection(WebSocketClose(code: .normalClosure)))
    }

    @Test func serverInitiatedCloseWaitsForPeerUntilDeadline() {
        var machine = Machine(closeTimeout: .seconds(3))
        let start = FakeInstant.zero.advanced(by: .seconds(10))
        let action = machine.closeRequested(code: .goingAway, reason: "shutdown", now: start)
        #expect(
            action
                == .sendCloseAndStartTimer(
                    WebSocketClose(code: .goingAway, reason: "shutdown"),
                    deadline: start.advanced(by: .seconds(3))
                )
        )
        let peerReply = machine.closeReceived(WebSocketClose(code: .goingAway))
        #expect(peerReply == .cancelTimerAndCloseConnection)
        let lateTimer = machine.timerFired(now: start.advanced(by: .seconds(3)))
        #expect(lateTimer == .none)
    }

    @Test func serverInitiatedCloseClosesTCPWhenPeerNeverAnswers() {
        var machine = Machine(closeTimeout: .seconds(3))
        _ = machine.closeRequested(code: .normalClosure, now: .zero)
        let early = machine.timerFired(now: FakeInstant.zero.advanced(by: .seconds(2)))
        let due = machine.timerFired(now: FakeInstant.zero.advanced(by: .seconds(3)))
        #expect(early == .none)
        #expect(due == .closeConnection)
    }

    @Test func secondCloseRequestSendsNothing() {
        var machine = Machine()
        _ = machine.closeRequested(code: .normalClosure, now: .zero)
        let again = machine.closeRequested(code: .goingAway, now: .zero)
        #expect(again == .none)
    }

    @Test(arguments: [UInt16(1005), 1006, 1015])
    func reservedCodesAreNeverSent(_ code: UInt16) {
        var machine = Machine()
        let action = machine.closeRequested(code: WebSocketCloseCode(code), now: .zero)
        guard case .sendCloseAndStartTimer(let close, _) = action else {
            Issue.record("expected a close frame, got \(action)")
            return
        }
        #expect(close.code.isSendable)
        #expect(close.code == (code == 1005 ? .normalClosure : .internalError))
    }

    @Test func protocolFailureSendsCodeAndClosesWithoutWaiting() {
        var machine = Machine()
        let action = machine.failed(code: .invalidPayloadData, reason: "bad utf-8")
        #expect(action == .sendCloseAndCloseConnection(WebSocketClose(code: .invalidPayloadData, reason: "bad utf-8")))
        let peerClose = machine.closeReceived(WebSocketClose(code: .normalClosure))
        #expect(peerClose == .none)
    }

    @Test func failureWhileWaitingForPeerCloseJustClosesTCP() {
        var machine = Machine()
        _ = machine.closeRequested(code: .normalClosure, now: .zero)
        let action = machine.failed(code: .protocolError)
        #expect(action == .cancelTimerAndCloseConnection)
    }

    @Test func tcpLossWhileWaitingCancelsTheTimer() {
        var machine = Machine()
        _ = machine.closeRequested(code: .normalClosure, now: .zero)
        let lost = machine.connectionClosed()
        let timer = machine.timerFired(now: FakeInstant.zero.advanced(by: .seconds(60)))
        #expect(lost == .cancelTimer)
        #expect(timer == .none)
    }

    @Test func longCloseReasonIsCutToFitAControlFrame() {
        let payload = WebSocketClose.encodePayload(code: .normalClosure, reason: String(repeating: "é", count: 100))
        #expect(payload.count == 124)
        #expect(payload.prefix(2) == [0x03, 0xE8])
        #expect(UTF8StreamValidator.isValid(payload.dropFirst(2)))
    }
}
