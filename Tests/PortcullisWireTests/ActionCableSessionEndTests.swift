import PortcullisWire
import Testing

/// How an ActionCable connection and its subscriptions end: the edge's causes, the
/// handler's disconnects, and the in-band refresh that keeps a connection from expiring.
@Suite struct ActionCableSessionEndTests {
    typealias Client = RecordedClientFrames
    typealias Server = RecordedServerFrames
    typealias Harness = ActionCableSessionHarness
    let harness = ActionCableSessionHarness()
    let chat = RecordedClientFrames.chatIdentifier
    let notifications = #"{"channel":"NotificationChannel"}"#

    /// Chat confirmed, notifications still pending.
    func twoSubscriptions() -> ActionCableSession {
        var session = self.harness.subscribed()
        _ = session.receivedText(Client.subscribeByName, now: self.harness.t0)
        return session
    }

    // MARK: end

    @Test(arguments: [
        (SocketCloseCause.expired, #"{"type":"disconnect","reason":"token_expired","reconnect":true}"#),
        (.revoked, #"{"type":"disconnect","reason":"token_revoked","reconnect":false}"#),
        (.sessionEnded, #"{"type":"disconnect","reason":"session_ended","reconnect":false}"#),
        (.shutdown, RecordedServerFrames.serverRestart),
        (.disconnected(reason: "kicked"), #"{"type":"disconnect","reason":"remote","reconnect":true}"#),
        (.disconnected(reason: "unauthorized"), RecordedServerFrames.unauthorized),
        (.slowConsumer, #"{"type":"disconnect","reason":"slow_consumer","reconnect":true}"#),
        (.rateLimited, #"{"type":"disconnect","reason":"rate_limit","reconnect":true}"#),
        (.busUnavailable, #"{"type":"disconnect","reason":"unavailable","reconnect":true}"#),
        (
            .protocolError(code: .messageTooBig, message: "message too big"),
            #"{"type":"disconnect","reason":"protocol_error","reconnect":true}"#
        ),
    ])
    func endSendsTheCausesDisconnectThenClosesEverySubscription(_ cause: SocketCloseCause, frame: String) {
        var session = self.twoSubscriptions()
        #expect(
            session.end(cause, now: self.harness.at(1)) == [
                Harness.send(frame),
                Harness.close(self.chat, reason: cause.description),
                Harness.close(self.notifications, reason: cause.description),
                .close(cause),
            ])
    }

    @Test func aRevocationSaysTokenRevokedAndAsksNotToReconnect() {
        var session = self.harness.started()
        #expect(
            session.end(.revoked, now: self.harness.t0) == [
                Harness.send(#"{"type":"disconnect","reason":"token_revoked","reconnect":false}"#),
                .close(.revoked),
            ])
    }

    @Test(arguments: [SocketCloseCause.connectionLost, .connectionError, .clientClosed(code: .goingAway)])
    func aConnectionAlreadyGoneGetsNoDisconnectFrame(_ cause: SocketCloseCause) {
        var session = self.twoSubscriptions()
        #expect(
            session.end(cause, now: self.harness.t0) == [
                Harness.close(self.chat, reason: cause.description),
                Harness.close(self.notifications, reason: cause.description),
                .close(cause),
            ])
    }

    @Test func anEndedSessionAnswersNothingAndArmsNothing() {
        var session = self.twoSubscriptions()
        _ = session.end(.expired, now: self.harness.t0)
        let now = self.harness.at(10)
        #expect(session.nextDeadline == nil)
        #expect(session.tick(now: now) == [])
        #expect(session.end(.shutdown, now: now) == [])
        #expect(session.receivedText(Client.subscribe, now: now) == [])
        #expect(session.receivedText(Client.performSpeak, now: now) == [])
        #expect(session.receivedText(#"{"command":"refresh","token":"t"}"#, now: now) == [])
        #expect(session.control(.confirm(namespace: self.notifications), now: now) == [])
        #expect(session.encodings(for: nil) == [])
        let request = SocketVerification(token: "t", purpose: .refresh(namespace: nil, ack: nil))
        #expect(session.verified(.accepted(expiresAt: 1), for: request, now: now) == [])
    }

    // MARK: A handler's disconnect of one subscription

    @Test func handlerDisconnectOfAConfirmedSubscriptionLeavesItRejectsItAndPublishesItsClose() {
        var session = self.twoSubscriptions()
        #expect(
            session.control(.disconnect(namespace: self.chat, reason: "kicked"), now: self.harness.t0)
                == [
                    .leaveNamespace(self.chat), Harness.send(Server.reject), Harness.close(self.chat, reason: "kicked"),
                ])
        #expect(session.encodings(for: nil) == [])
        #expect(session.receivedText(Client.performSpeak, now: self.harness.t0) == [])
        #expect(session.receivedText(Client.unsubscribe, now: self.harness.t0) == [])
    }

    @Test func handlerDisconnectOfAPendingSubscriptionStopsTheClientsRetries() {
        var session = self.twoSubscriptions()
        #expect(
            session.control(.disconnect(namespace: self.notifications, reason: "bye"), now: self.harness.t0) == [
                Harness.send(#"{"identifier":"{\"channel\":\"NotificationChannel\"}","type":"reject_subscription"}"#),
                Harness.close(self.notifications, reason: "bye"),
            ])
        #expect(
            session.control(.disconnect(namespace: self.notifications, reason: "bye"), now: self.harness.t0) == [],
            "unknown now")
    }

    // MARK: Refresh

    @Test func refreshCommandAsksTheEdgeToVerifyTheToken() {
        var session = self.harness.subscribed()
        #expect(
            session.receivedText(#"{"command":"refresh","token":"eyJ.new.sig"}"#, now: self.harness.t0)
                == [.verify(SocketVerification(token: "eyJ.new.sig", purpose: .refresh(namespace: nil, ack: nil)))])
    }

    @Test(arguments: [
        #"{"command":"refresh"}"#, #"{"command":"refresh","token":null}"#, #"{"command":"refresh","token":""}"#,
        #"{"command":"refresh","token":42}"#, #"{"command":"refresh","token":"a","token":"b"}"#,
    ])
    func refreshWithoutOneUsableTokenStillGetsVerifiedAndSoAnswered(_ text: String) {
        var session = self.harness.started()
        #expect(
            session.receivedText(text, now: self.harness.t0)
                == [.verify(SocketVerification(token: nil, purpose: .refresh(namespace: nil, ack: nil)))])
    }

    @Test(arguments: [
        (SocketVerificationOutcome.accepted(expiresAt: 1_718_003_600), #"{"type":"refreshed","exp":1718003600}"#),
        (.accepted(expiresAt: nil), #"{"type":"refreshed","exp":null}"#),
        (.notRequired, #"{"type":"refreshed"}"#),
        (
            .refused(code: "token_expired", message: "expired 3s ago"),
            #"{"type":"refresh_rejected","reason":"token_expired"}"#
        ),
    ])
    func verificationOutcomeIsAnsweredInBand(_ outcome: SocketVerificationOutcome, frame: String) {
        var session = self.harness.subscribed()
        let request = SocketVerification(token: "t", purpose: .refresh(namespace: nil, ack: nil))
        #expect(session.verified(outcome, for: request, now: self.harness.t0) == [Harness.send(frame)])
        #expect(session.encodings(for: nil).count == 1, "a refused refresh leaves the connection as it was")
    }

    @Test func theRefreshCommandNameIsConfigurableAndCanBeTurnedOff() {
        var renamed = self.harness.started(.init(refreshCommand: "reauth"))
        #expect(renamed.receivedText(#"{"command":"refresh","token":"t"}"#, now: self.harness.t0) == [])
        #expect(
            renamed.receivedText(#"{"token":"t","command":"reauth"}"#, now: self.harness.t0)
                == [.verify(SocketVerification(token: "t", purpose: .refresh(namespace: nil, ack: nil)))])
        var off = self.harness.started(.init(refreshCommand: nil))
        #expect(off.receivedText(#"{"command":"refresh","token":"t"}"#, now: self.harness.t0) == [])
    }

    @Test func aConnectVerificationIsNotTheSessionsToAnswer() {
        var session = self.harness.started()
        let request = SocketVerification(token: "t", purpose: .connect(namespace: "/", auth: nil))
        #expect(session.verified(.accepted(expiresAt: 1), for: request, now: self.harness.t0) == [])
    }
}
