import PortcullisWire
import Testing

@Suite struct WebSocketHeartbeatTests {
    static let configuration = WebSocketHeartbeat<FakeInstant>.Configuration(
        pingInterval: .seconds(25),
        pingTimeout: .seconds(20)
    )

    func at(_ seconds: Int) -> FakeInstant {
        FakeInstant.zero.advanced(by: .seconds(seconds))
    }

    @Test func idleConnectionIsPingedAfterTheInterval() {
        var heartbeat = WebSocketHeartbeat(configuration: Self.configuration, now: self.at(0))
        #expect(heartbeat.nextDeadline == self.at(25))
        let early = heartbeat.tick(now: self.at(24))
        let due = heartbeat.tick(now: self.at(25))
        #expect(early == .none)
        #expect(due == .sendPing([0, 0, 0, 0, 0, 0, 0, 1]))
        #expect(heartbeat.nextDeadline == self.at(45))
    }

    @Test func inboundTrafficPostponesThePing() {
        var heartbeat = WebSocketHeartbeat(configuration: Self.configuration, now: self.at(0))
        heartbeat.inboundTraffic(now: self.at(20))
        let action = heartbeat.tick(now: self.at(25))
        #expect(action == .none)
        #expect(heartbeat.nextDeadline == self.at(45))
    }

    @Test func pongBeforeTimeoutKeepsTheConnection() {
        var heartbeat = WebSocketHeartbeat(configuration: Self.configuration, now: self.at(0))
        _ = heartbeat.tick(now: self.at(25))
        heartbeat.inboundTraffic(now: self.at(30))
        let afterTimeout = heartbeat.tick(now: self.at(45))
        let nextPing = heartbeat.tick(now: self.at(55))
        #expect(afterTimeout == .none)
        #expect(nextPing == .sendPing([0, 0, 0, 0, 0, 0, 0, 2]))
    }

    @Test func silentPeerIsClosedWith1001AfterPingTimeout() {
        var heartbeat = WebSocketHeartbeat(configuration: Self.configuration, now: self.at(0))
        _ = heartbeat.tick(now: self.at(25))
        let early = heartbeat.tick(now: self.at(44))
        let due = heartbeat.tick(now: self.at(45))
        #expect(early == .none)
        #expect(due == .closeUnresponsive(WebSocketClose(code: .goingAway, reason: "ping timeout")))
        #expect(heartbeat.nextDeadline == nil)
    }

    @Test func stoppedHeartbeatNeverActs() {
        var heartbeat = WebSocketHeartbeat(configuration: Self.configuration, now: self.at(0))
        heartbeat.stop()
        let action = heartbeat.tick(now: self.at(1000))
        #expect(action == .none)
        #expect(heartbeat.nextDeadline == nil)
    }
}
