import PortcullisWire
import Testing

/// Drives ``ActionCableSession`` with what Rails' JS client sends (``RecordedClientFrames``)
/// and checks every action against the exact frames the Ruby server writes
/// (``RecordedServerFrames``), with time passed in by hand.
struct ActionCableSessionHarness {
    typealias Client = RecordedClientFrames
    typealias Server = RecordedServerFrames

    static let unixStart: Int64 = 1_718_000_000
    let t0 = ContinuousClock.now

    func at(_ seconds: Double) -> ContinuousClock.Instant {
        self.t0.advanced(by: .seconds(seconds))
    }

    /// A session already welcomed at `t0`, whose wall clock read `unixStart` then.
    func started(_ configuration: ActionCableSession.Configuration = .init()) -> ActionCableSession {
        var session = ActionCableSession(configuration: configuration, unixTimeAtStart: .seconds(Self.unixStart))
        _ = session.start(now: self.t0)
        return session
    }

    /// A started session holding the chat subscription, confirmed.
    func subscribed(_ configuration: ActionCableSession.Configuration = .init()) -> ActionCableSession {
        var session = self.started(configuration)
        _ = session.receivedText(Client.subscribe, now: self.t0)
        _ = session.control(.confirm(namespace: Client.chatIdentifier), now: self.t0)
        return session
    }

    static func send(_ text: String) -> SocketSessionAction {
        .send(.text(text))
    }

    static func open(_ identifier: String, channel: String, query: String = "{}") -> SocketSessionAction {
        .publish(
            SocketInbound(
                kind: .open, namespace: identifier,
                data: .json(#"{"query":"# + query + #","channel":""# + channel + #"","params":"# + identifier + "}")))
    }

    static func close(_ identifier: String, reason: String) -> SocketSessionAction {
        .publish(SocketInbound(kind: .close, namespace: identifier, reason: reason))
    }
}

@Suite struct ActionCableSessionTests {
    typealias Client = RecordedClientFrames
    typealias Server = RecordedServerFrames
    typealias Harness = ActionCableSessionHarness
    let harness = ActionCableSessionHarness()
    let chat = RecordedClientFrames.chatIdentifier

    // MARK: Welcome and pings

    @Test func startWelcomesOnceAndArmsThePingThreeSecondsLater() {
        var session = ActionCableSession(unixTimeAtStart: .seconds(Harness.unixStart))
        #expect(session.nextDeadline == nil)
        #expect(session.tick(now: self.harness.at(10)) == [])
        #expect(session.start(now: self.harness.t0) == [Harness.send(Server.welcome)])
        #expect(session.nextDeadline == self.harness.at(3))
        #expect(session.start(now: self.harness.at(1)) == [])
    }

    @Test func pingsEveryIntervalCarryTheWallClockInUnixSeconds() {
        var session = self.harness.started()
        #expect(session.tick(now: self.harness.at(2.999)) == [])
        #expect(session.tick(now: self.harness.at(3)) == [Harness.send(#"{"type":"ping","message":1718000003}"#)])
        #expect(session.nextDeadline == self.harness.at(6))
        #expect(session.tick(now: self.harness.at(3.5)) == [])
        #expect(session.tick(now: self.harness.at(6.9)) == [Harness.send(#"{"type":"ping","message":1718000006}"#)])
        #expect(session.nextDeadline == self.harness.at(9), "the cadence is kept from the start, not from the tick")
    }

    @Test func aTickLateByWholeIntervalsSendsOnePingAndRearmsFromNow() {
        var session = self.harness.started()
        #expect(session.tick(now: self.harness.at(30.25)) == [Harness.send(#"{"type":"ping","message":1718000030}"#)])
        #expect(session.nextDeadline == self.harness.at(33.25))
        #expect(session.tick(now: self.harness.at(33)) == [])
    }

    @Test func unixSecondsRoundDownFromAWallClockReadBetweenSeconds() {
        var session = ActionCableSession(
            configuration: .init(pingInterval: .seconds(10)),
            unixTimeAtStart: .seconds(Harness.unixStart) + .milliseconds(600))
        _ = session.start(now: self.harness.t0)
        #expect(session.nextDeadline == self.harness.at(10))
        #expect(session.tick(now: self.harness.at(10.3)) == [Harness.send(#"{"type":"ping","message":1718000010}"#)])
        #expect(session.tick(now: self.harness.at(20.5)) == [Harness.send(#"{"type":"ping","message":1718000021}"#)])
    }

    // MARK: Subscribing

    @Test func subscribePublishesAnOpenWithQueryChannelAndParamsAndWaitsForTheHandler() {
        var session = self.harness.started(
            .init(query: [(name: "token", value: "abc"), (name: "room", value: "1"), (name: "token", value: "x\"y")]))
        #expect(
            session.receivedText(Client.subscribe, now: self.harness.t0)
                == [Harness.open(self.chat, channel: "ChatChannel", query: #"{"token":"x\"y","room":"1"}"#)])
        #expect(session.encodings(for: nil) == [], "a pending subscription receives nothing")
        #expect(session.encodings(for: self.chat) == [])
    }

    @Test func confirmSendsConfirmSubscriptionAndEntersTheSubscription() {
        var session = self.harness.started()
        _ = session.receivedText(Client.subscribe, now: self.harness.t0)
        #expect(
            session.control(.confirm(namespace: self.chat), now: self.harness.t0)
                == [Harness.send(Server.confirm), .enterNamespace(self.chat)])
        let encoding = SocketEncoding(format: .actionCable, namespace: self.chat)
        #expect(session.encodings(for: nil) == [encoding])
        #expect(session.encodings(for: self.chat) == [encoding])
        #expect(session.encodings(for: #"{"channel":"OtherChannel"}"#) == [])
        #expect(session.control(.confirm(namespace: self.chat), now: self.harness.t0) == [], "confirmed once")
        #expect(session.control(.confirm(namespace: #"{"channel":"Unknown"}"#), now: self.harness.t0) == [])
    }

    @Test func theClientsRetriesWhilePendingAreSilentAndAfterConfirmGetTheConfirmAgain() {
        var session = self.harness.started()
        #expect(session.receivedText(Client.subscribe, now: self.harness.t0).count == 1)
        // SubscriptionGuarantor: the same frame every 500 ms until confirmed.
        #expect(session.receivedText(Client.subscribe, now: self.harness.at(0.5)) == [])
        #expect(session.receivedText(Client.subscribe, now: self.harness.at(1)) == [])
        _ = session.control(.confirm(namespace: self.chat), now: self.harness.at(1.2))
        // A retry that crossed the confirm, then the re-subscribe after a new welcome.
        #expect(session.receivedText(Client.subscribe, now: self.harness.at(1.5)) == [Harness.send(Server.confirm)])
        #expect(session.receivedText(Client.subscribe, now: self.harness.at(9)) == [Harness.send(Server.confirm)])
        #expect(session.encodings(for: nil) == [SocketEncoding(format: .actionCable, namespace: self.chat)])
    }

    @Test func identifierBytesAreKeptAsTheClientSpelledThem() {
        var session = self.harness.started()
        let spaced = #"{ "room": "1",  "channel": "ChatChannel" }"#
        let spacedToken = #""{ \"room\": \"1\",  \"channel\": \"ChatChannel\" }""#
        let frame = #"{"command":"subscribe","identifier":"# + spacedToken + "}"
        #expect(session.receivedText(frame, now: self.harness.t0) == [Harness.open(spaced, channel: "ChatChannel")])
        #expect(
            session.control(.confirm(namespace: spaced), now: self.harness.t0) == [
                Harness.send(#"{"identifier":"# + spacedToken + #","type":"confirm_subscription"}"#),
                .enterNamespace(spaced),
            ])
        // Rails keys subscriptions by the string: another spelling is another subscription.
        #expect(
            session.receivedText(Client.subscribe, now: self.harness.t0) == [
                Harness.open(self.chat, channel: "ChatChannel")
            ])
    }

    @Test func escapedIdentifierIsEchoedWithTheClientsOwnEscapes() {
        var session = self.harness.started()
        let identifier = Client.escapedIdentifier
        #expect(
            session.receivedText(Client.subscribeWithEscapes, now: self.harness.t0)
                == [Harness.open(identifier, channel: "Chats::RoomChannel")])
        #expect(
            session.control(.confirm(namespace: identifier), now: self.harness.t0) == [
                Harness.send(#"{"identifier":"# + Client.escapedIdentifierToken + #","type":"confirm_subscription"}"#),
                .enterNamespace(identifier),
            ])
    }

    @Test func numericParamsReachTheHandlerAsWritten() {
        var session = self.harness.started()
        let identifier = #"{"channel":"ChatRoomChannel","community_member_id":42}"#
        #expect(
            session.receivedText(Client.subscribeWithNumber, now: self.harness.t0)
                == [Harness.open(identifier, channel: "ChatRoomChannel")])
    }

    @Test func rejectSendsRejectSubscriptionAndForgetsIt() {
        var session = self.harness.started()
        _ = session.receivedText(Client.subscribe, now: self.harness.t0)
        #expect(
            session.control(.reject(namespace: self.chat, reason: "not allowed"), now: self.harness.t0)
                == [Harness.send(Server.reject)])
        #expect(session.encodings(for: nil) == [])
        #expect(session.receivedText(Client.performSpeak, now: self.harness.t0) == [])
        #expect(session.control(.confirm(namespace: self.chat), now: self.harness.t0) == [], "too late")
        #expect(
            session.receivedText(Client.subscribe, now: self.harness.t0)
                == [Harness.open(self.chat, channel: "ChatChannel")], "asking again starts over")
    }

    @Test func rejectingAConfirmedSubscriptionEndsItLikeADisconnect() {
        var session = self.harness.subscribed()
        #expect(
            session.control(.reject(namespace: self.chat, reason: nil), now: self.harness.t0)
                == [
                    .leaveNamespace(self.chat), Harness.send(Server.reject),
                    Harness.close(self.chat, reason: "rejected"),
                ])
        #expect(session.encodings(for: nil) == [])
    }

    @Test func subscriptionsOverTheLimitAreRejectedWithoutAnOpen() {
        var session = self.harness.started(.init(maxSubscriptions: 2))
        _ = session.receivedText(Client.subscribe, now: self.harness.t0)
        _ = session.receivedText(Client.subscribeByName, now: self.harness.t0)
        let third = #"{"command":"subscribe","identifier":"{\"channel\":\"ThirdChannel\"}"}"#
        let rejectThird = #"{"identifier":"{\"channel\":\"ThirdChannel\"}","type":"reject_subscription"}"#
        #expect(session.receivedText(third, now: self.harness.t0) == [Harness.send(rejectThird)])
        #expect(session.receivedText(Client.subscribe, now: self.harness.t0) == [], "a held one is still idempotent")
        _ = session.receivedText(Client.unsubscribe, now: self.harness.t0)
        #expect(
            session.receivedText(third, now: self.harness.t0)
                == [Harness.open(#"{"channel":"ThirdChannel"}"#, channel: "ThirdChannel")])
    }

    // MARK: Unsubscribing and messages

    @Test func unsubscribeLeavesAConfirmedSubscriptionAndPublishesItsClose() {
        var session = self.harness.subscribed()
        #expect(
            session.receivedText(Client.unsubscribe, now: self.harness.t0)
                == [.leaveNamespace(self.chat), Harness.close(self.chat, reason: "unsubscribed")])
        #expect(session.encodings(for: nil) == [])
        #expect(session.receivedText(Client.unsubscribe, now: self.harness.t0) == [], "Rails answers nothing")
    }

    @Test func unsubscribeWhilePendingPublishesTheCloseAndALateConfirmIsIgnored() {
        var session = self.harness.started()
        _ = session.receivedText(Client.subscribe, now: self.harness.t0)
        #expect(
            session.receivedText(Client.unsubscribe, now: self.harness.t0)
                == [Harness.close(self.chat, reason: "unsubscribed")])
        #expect(session.control(.confirm(namespace: self.chat), now: self.harness.t0) == [])
    }

    @Test func messagesOfAConfirmedSubscriptionArePublishedWithTheActionAndDataAsSent() {
        var session = self.harness.subscribed()
        #expect(
            session.receivedText(Client.performSpeak, now: self.harness.t0) == [
                .publish(
                    SocketInbound(
                        kind: .message, namespace: self.chat, event: "speak",
                        data: .json(#"{"body":"hi","action":"speak"}"#)))
            ])
        #expect(
            session.receivedText(Client.sendWithoutAction, now: self.harness.t0) == [
                .publish(
                    SocketInbound(
                        kind: .message, namespace: self.chat, event: "receive", data: .json(#"{"body":"no action"}"#)))
            ])
    }

    @Test func unicodeDataIsHandedOnByteForByte() {
        var session = self.harness.started()
        _ = session.receivedText(Client.subscribeWithEscapes, now: self.harness.t0)
        _ = session.control(.confirm(namespace: Client.escapedIdentifier), now: self.harness.t0)
        #expect(
            session.receivedText(Client.performWithUnicode, now: self.harness.t0) == [
                .publish(
                    SocketInbound(
                        kind: .message, namespace: Client.escapedIdentifier, event: "speak",
                        data: .json("{\"text\":\"é\u{2028}\",\"action\":\"speak\"}")))
            ])
    }

    @Test func messagesForPendingOrUnknownSubscriptionsAreDropped() {
        var session = self.harness.started()
        #expect(session.receivedText(Client.performSpeak, now: self.harness.t0) == [])
        _ = session.receivedText(Client.subscribe, now: self.harness.t0)
        #expect(session.receivedText(Client.performSpeak, now: self.harness.t0) == [])
    }

    @Test(arguments: [
        "", "not json", "[]", #"{"command":"history","identifier":"{\"channel\":\"ChatChannel\"}"}"#,
        #"{"command":"pong"}"#, #"{"command":"subscribe"}"#, #"{"command":"subscribe","identifier":"{\"room\":1}"}"#,
        #"{"command":"subscribe","identifier":"not json"}"#,
        #"{"command":"message","identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}","data":"nope"}"#,
        #"{"command":"subscribe","identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}"} trailing"#,
    ])
    func malformedFramesAndUnknownCommandsAreDroppedWithoutAWord(_ text: String) {
        var session = self.harness.subscribed()
        #expect(session.receivedText(text, now: self.harness.t0) == [])
        #expect(session.encodings(for: nil) == [SocketEncoding(format: .actionCable, namespace: self.chat)])
    }

    @Test func binaryFramesAndFailedPublishesGetNoAnswer() {
        var session = self.harness.subscribed()
        #expect(session.receivedBinary([0x7B, 0x7D], now: self.harness.t0) == [])
        let inbound = SocketInbound(kind: .message, namespace: self.chat, event: "speak", data: .json("{}"))
        #expect(session.publishFailed(inbound, busUnavailable: true) == [])
        #expect(session.publishFailed(inbound, busUnavailable: false) == [])
    }

    /// A whole Rails JS client conversation, as `consumer.subscriptions.create(…)`, `perform`,
    /// `unsubscribe()` produce it, with the handler answering through the bus.
    @Test func recordedConversationGetsTheFramesTheRubyServerSends() {
        var session = ActionCableSession(unixTimeAtStart: .seconds(Harness.unixStart))
        var transcript: [SocketSessionAction] = []
        transcript += session.start(now: self.harness.t0)
        transcript += session.receivedText(Client.subscribe, now: self.harness.at(0.1))
        transcript += session.receivedText(Client.subscribe, now: self.harness.at(0.6))
        transcript += session.control(.confirm(namespace: self.chat), now: self.harness.at(0.8))
        transcript += session.receivedText(Client.subscribe, now: self.harness.at(1.1))
        transcript += session.receivedText(Client.performSpeak, now: self.harness.at(2))
        transcript += session.tick(now: self.harness.at(3))
        transcript += session.receivedText(Client.unsubscribe, now: self.harness.at(4))
        transcript += session.tick(now: self.harness.at(6))
        #expect(
            transcript == [
                Harness.send(Server.welcome),
                Harness.open(self.chat, channel: "ChatChannel"),
                Harness.send(Server.confirm),
                .enterNamespace(self.chat),
                Harness.send(Server.confirm),
                .publish(
                    SocketInbound(
                        kind: .message, namespace: self.chat, event: "speak",
                        data: .json(#"{"body":"hi","action":"speak"}"#))),
                Harness.send(#"{"type":"ping","message":1718000003}"#),
                .leaveNamespace(self.chat),
                Harness.close(self.chat, reason: "unsubscribed"),
                Harness.send(#"{"type":"ping","message":1718000006}"#),
            ])
    }
}
