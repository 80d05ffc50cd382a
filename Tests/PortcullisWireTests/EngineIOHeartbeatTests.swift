import PortcullisWire
import Testing

/// The EIO 4 heartbeat on its own (protocols.md §1.4), and the close causes the sessions
/// add.
@Suite struct EngineIOHeartbeatTests {
    func at(_ seconds: Int) -> FakeInstant {
        FakeInstant.zero.advanced(by: .seconds(seconds))
    }

    @Test func pingIsDueOneIntervalAfterStartAndTheTimeoutAfterThePing() {
        var heartbeat = EngineIOHeartbeat<FakeInstant>(pingInterval: .seconds(25), pingTimeout: .seconds(20))
        #expect(heartbeat.nextDeadline == nil)
        heartbeat.start(now: self.at(0))
        #expect(heartbeat.nextDeadline == self.at(25))
        #expect(heartbeat.tick(now: self.at(24)) == .none)
        #expect(heartbeat.tick(now: self.at(26)) == .sendPing)
        #expect(heartbeat.nextDeadline == self.at(46))
        #expect(heartbeat.tick(now: self.at(46)) == .timedOut)
        #expect(heartbeat.nextDeadline == nil)
        #expect(heartbeat.tick(now: self.at(100)) == .none)
    }

    @Test func pongRestartsTheIntervalFromThePong() {
        var heartbeat = EngineIOHeartbeat<FakeInstant>(pingInterval: .seconds(25), pingTimeout: .seconds(20))
        heartbeat.start(now: self.at(0))
        _ = heartbeat.tick(now: self.at(25))
        heartbeat.pongReceived(now: self.at(27))
        #expect(heartbeat.nextDeadline == self.at(52))
        heartbeat.pongReceived(now: self.at(30))
        #expect(heartbeat.nextDeadline == self.at(55))
    }

    @Test func stoppedHeartbeatIgnoresPongs() {
        var heartbeat = EngineIOHeartbeat<FakeInstant>(pingInterval: .seconds(25), pingTimeout: .seconds(20))
        heartbeat.start(now: self.at(0))
        heartbeat.stop()
        heartbeat.pongReceived(now: self.at(1))
        #expect(heartbeat.nextDeadline == nil)
    }

    @Test func sessionCausesKeepTheContractLabelsAndNameTheirNoticeReason() {
        let cases: [(SocketCloseCause, String, UInt16?, String?, Bool)] = [
            (.expired, "expired", 4001, "token_expired", true),
            (.revoked, "revoked", 4001, "token_revoked", true),
            (.sessionEnded, "session_ended", 4001, "session_ended", true),
            (.shutdown, "shutdown", 1001, "server_restart", false),
            (.disconnected(reason: "kicked"), "disconnect", 4000, "kicked", false),
            (.slowConsumer, "slow_consumer", 1008, nil, false),
            (.engineIOPingTimeout, "ping_timeout", 1001, nil, false),
            (.socketIOConnectTimeout, "protocol_error", 1008, nil, false),
            (.socketIOInvalidState, "protocol_error", 1002, nil, false),
            (.engineIOHeartbeatDirection, "protocol_error", 1002, nil, false),
        ]
        for (cause, label, code, notice, endsCredentials) in cases {
            #expect(cause.label == label)
            #expect(cause.code?.rawValue == code)
            #expect(cause.noticeReason == notice)
            #expect(cause.endsCredentials == endsCredentials)
        }
        #expect(SocketCloseCause.engineIOPingTimeout.description == "ping timeout")
        let tooLarge = SocketCloseCause.engineIOParseError(
            EngineIOPacketError(code: .payloadTooLarge, message: "packet of 9 bytes exceeds 8"))
        #expect(tooLarge.code == .messageTooBig)
        #expect(tooLarge.description == "protocol error: parse error (payload_too_large)")
    }
}
