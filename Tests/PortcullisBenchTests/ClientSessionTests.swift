import NIOCore
import Testing

@testable import portcullis_bench

@Suite struct ClientSessionTests {
    static let identifier = #"{"channel":"ChatChannel","room":"bench"}"#
    static let escapedIdentifier = #""{\"channel\":\"ChatChannel\",\"room\":\"bench\"}""#
    static let subscribe = ClientProtocol.actionCableSubscribe(identifier: Self.identifier)

    /// The session's answers to `messages`, in order.
    func answers(_ session: inout ClientSession, _ messages: [String]) -> [ClientSession.Action] {
        messages.map { session.received(ByteBuffer(string: $0)) }
    }

    @Test func rawConnectionIsOpenOnUpgradeAndDeliversEveryMessage() {
        var session = ClientSession(.raw)
        #expect(session.upgraded() == .ready)
        #expect(self.answers(&session, [#"{"event":"tick","data":{"t":1}}"#, "2"]) == [.deliver, .deliver])
    }

    @Test func socketIOClientConnectsToTheMainNamespaceAfterTheOpenPacket() {
        var session = ClientSession(.socketIO)
        #expect(session.upgraded() == .none)
        let open = #"0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
        #expect(self.answers(&session, [open, #"40{"sid":"b"}"#]) == [.send("40"), .ready])
    }

    @Test func socketIOClientAnswersPingsAndHearsEventsOnTheMainNamespaceOnly() {
        var session = ClientSession(.socketIO)
        _ = session.upgraded()
        _ = self.answers(&session, ["0{}", #"40{"sid":"b"}"#])
        let actions = self.answers(
            &session, ["2", #"42["tick",{"t":1}]"#, #"42/chat,["tick",{"t":1}]"#, "6", #"43[1]"#])
        #expect(actions == [.send("3"), .deliver, .none, .none, .deliver])
    }

    @Test func socketIOEventsBeforeTheConnectAnswerAreNotDelivered() {
        var session = ClientSession(.socketIO)
        _ = session.upgraded()
        #expect(self.answers(&session, ["0{}", #"42["tick",{"t":1}]"#]) == [.send("40"), .none])
    }

    @Test func socketIOConnectErrorEndsTheSession() {
        var session = ClientSession(.socketIO)
        _ = session.upgraded()
        let actions = self.answers(&session, ["0{}", #"44{"message":"Not authorized"}"#, "2"])
        #expect(
            actions == [
                .send("40"), .close(reason: #"Socket.IO CONNECT_ERROR: 44{"message":"Not authorized"}"#), .none,
            ])
    }

    @Test func actionCableClientSubscribesAfterTheWelcomeAndIsOpenOnConfirmation() {
        var session = ClientSession(.actionCable(subscribe: Self.subscribe))
        #expect(session.upgraded() == .none)
        let actions = self.answers(
            &session,
            [
                #"{"type":"welcome"}"#,
                #"{"type":"ping","message":1718000000}"#,
                #"{"identifier":"# + Self.escapedIdentifier + #","type":"confirm_subscription"}"#,
                #"{"identifier":"# + Self.escapedIdentifier + #","message":{"t":1}}"#,
                #"{"type":"ping","message":1718000003}"#,
            ])
        #expect(actions == [.send(Self.subscribe), .none, .ready, .deliver, .none])
    }

    @Test func actionCableBroadcastQuotingAConfirmationIsDelivered() {
        var session = ClientSession(.actionCable(subscribe: nil))
        _ = session.upgraded()
        let broadcast = #"{"identifier":"# + Self.escapedIdentifier + #","message":{"type":"confirm_subscription"}}"#
        #expect(self.answers(&session, [#"{"type":"welcome"}"#, broadcast]) == [.ready, .deliver])
    }

    @Test func actionCableRejectedSubscriptionEndsTheSession() {
        var session = ClientSession(.actionCable(subscribe: Self.subscribe))
        _ = session.upgraded()
        let rejected = #"{"identifier":"# + Self.escapedIdentifier + #","type":"reject_subscription"}"#
        let actions = self.answers(&session, [#"{"type":"welcome"}"#, rejected])
        #expect(actions == [.send(Self.subscribe), .close(reason: "ActionCable subscription rejected")])
    }

    @Test func actionCableDisconnectEndsAnOpenSession() {
        var session = ClientSession(.actionCable(subscribe: nil))
        _ = session.upgraded()
        let disconnect = #"{"type":"disconnect","reason":"server_restart","reconnect":true}"#
        let actions = self.answers(&session, [#"{"type":"welcome"}"#, disconnect])
        #expect(actions == [.ready, .close(reason: "ActionCable " + disconnect)])
    }

    @Test func subscribeCommandCarriesTheIdentifierAsAJSONString() {
        #expect(Self.subscribe == #"{"command":"subscribe","identifier":"# + Self.escapedIdentifier + "}")
        #expect(ClientProtocol.actionCable(subscribe: nil).subprotocol == "actioncable-v1-json")
        #expect(ClientProtocol.socketIO.subprotocol == nil)
    }
}
