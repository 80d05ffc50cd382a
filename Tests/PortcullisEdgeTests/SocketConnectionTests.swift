import Foundation
import NIOCore
import PortcullisAuth
import PortcullisBus
import PortcullisConfig
import PortcullisWire
import Testing

@testable import PortcullisEdge

/// A connection whatever carries it: what it appends to the bus for its session, how it
/// answers the session's token checks, and how it ends. Driven with a scripted session
/// and a recording transport on an `EmbeddedEventLoop`, with instants the test chooses.
@Suite struct SocketConnectionTests {
    private func open(_ namespace: String?) -> SocketSessionAction {
        .publish(SocketInbound(kind: .open, namespace: namespace))
    }

    private func closeOf(_ namespace: String?, reason: String) -> SocketSessionAction {
        .publish(SocketInbound(kind: .close, namespace: namespace, reason: reason))
    }

    private func message(_ namespace: String?, event: String) -> SocketSessionAction {
        .publish(SocketInbound(kind: .message, namespace: namespace, event: event, data: .json("1")))
    }

    private func unixNow() -> Int64 {
        Int64(Date().timeIntervalSince1970)
    }

    // MARK: Appends

    @Test func anOpenCarriesTheConnectionsClaimsAndMessagesDoNot() throws {
        let harness = try SocketHubHarness()
        let script = SessionScript()
        script.onStart = [open("/")]
        script.replies["say"] = [message("/", event: "say")]
        let (connection, _) = harness.open(script)
        connection.receivedText("say", now: .now)

        let envelopes = try harness.envelopes()
        #expect(envelopes.map(\.kind) == [.open, .message])
        let open = envelopes[0]
        #expect(open.connection == connection.id && open.edge == "edge-t" && open.app == "chat")
        #expect(open.user == "u1" && open.namespace == "/")
        #expect(open.claims == #"{"sub":"u1"}"#)
        #expect(envelopes[1].event == "say" && envelopes[1].user == "u1")
        #expect(envelopes[1].claims == nil)
    }

    @Test func theEndOfTheTransportClosesEveryOpenNamespaceOnce() throws {
        let harness = try SocketHubHarness()
        let script = SessionScript()
        script.onStart = [open("/"), open("/chat"), open("/game")]
        script.replies["leave /game"] = [
            closeOf("/game", reason: "client namespace disconnect"), .leaveNamespace("/game"),
        ]
        let (connection, _) = harness.open(script)
        connection.receivedText("leave /game", now: .now)
        connection.noteCause(.clientClosed(code: .normalClosure))
        connection.transportClosed()

        let closes = try harness.envelopes().filter { $0.kind == .close }
        // /game was closed by the session; the transport's end closes the other two.
        #expect(closes.count == 3)
        #expect(closes.filter { $0.namespace == "/game" }.map(\.reason) == ["client namespace disconnect"])
        let atTheEnd = closes.filter { $0.namespace != "/game" }
        #expect(Set(atTheEnd.map(\.namespace)) == ["/", "/chat"])
        #expect(atTheEnd.allSatisfy { $0.reason == "client closed (1000)" && $0.user == "u1" })
        #expect(harness.hub.connectionCount == 0)

        // A second report of the end changes nothing.
        connection.transportClosed()
        #expect(try harness.envelopes().filter { $0.kind == .close }.count == 3)
    }

    @Test func aCloseForANamespaceThatNeverOpenedIsNotPublished() throws {
        let harness = try SocketHubHarness()
        let script = SessionScript()
        script.onStart = [open("/")]
        script.replies["leave /chat"] = [closeOf("/chat", reason: "client namespace disconnect")]
        let (connection, _) = harness.open(script)
        connection.receivedText("leave /chat", now: .now)
        #expect(try harness.envelopes().map(\.kind) == [.open])
    }

    @Test func theCloseOfEachNamespaceNamesWhyTheEdgeEndedTheConnection() throws {
        let harness = try SocketHubHarness()
        let script = SessionScript()
        script.onStart = [open("/")]
        let (connection, transport) = harness.open(script)
        connection.end(.disconnected(reason: "kicked"), now: .now)
        #expect(transport.closes == [.disconnected(reason: "kicked")])
        #expect(transport.texts == ["bye disconnect"])
        connection.transportClosed()
        #expect(try harness.envelopes().last.map { $0.kind == .close && $0.reason == "disconnected: kicked" } == true)
    }

    // MARK: Token checks

    private static func connect(_ token: String?, _ namespace: String = "/chat") -> SocketSessionAction {
        .verify(SocketVerification(token: token, purpose: .connect(namespace: namespace, auth: nil)))
    }

    private static func refresh(_ token: String) -> SocketSessionAction {
        .verify(SocketVerification(token: token, purpose: .refresh(namespace: "/", ack: 7)))
    }

    @Test func aConnectWithoutATokenNeedsNoneWhenTheHandshakeIdentifiedTheConnection() throws {
        let harness = try SocketHubHarness()
        let script = SessionScript()
        script.replies["connect"] = [Self.connect(nil)]
        let (connection, _) = harness.open(script, verifier: tokenVerifier(on: harness.loop, [:]))
        connection.receivedText("connect", now: .now)
        #expect(script.outcomes == [.notRequired])
    }

    @Test func aConnectWithoutATokenIsRefusedForAnAnonymousConnectionOnATokenRoute() throws {
        let harness = try SocketHubHarness()
        let script = SessionScript()
        script.replies["connect"] = [Self.connect(nil)]
        let (connection, _) = harness.open(
            script, identity: .init(), verifier: tokenVerifier(on: harness.loop, [:]))
        connection.receivedText("connect", now: .now)
        guard case .refused(let code, _)? = script.outcomes.first else {
            Issue.record("expected a refusal, got \(script.outcomes)")
            return
        }
        #expect(code == "missing_token")
    }

    @Test func aPublicRouteNeedsNoTokenFromAnonymousConnections() throws {
        let harness = try SocketHubHarness()
        let script = SessionScript()
        script.replies["connect"] = [Self.connect(nil)]
        let (connection, _) = harness.open(script, identity: .init())
        connection.receivedText("connect", now: .now)
        #expect(script.outcomes == [.notRequired])
    }

    @Test func anAcceptedConnectTokenMakesAnAnonymousConnectionReachableAsItsUser() throws {
        let harness = try SocketHubHarness()
        let expiry = unixNow() + 600
        let verifier = tokenVerifier(
            on: harness.loop,
            [
                "t7": Identity(
                    subject: "u7", expiresAt: expiry, tokenId: "j7", source: .jwt(keyID: "k1"),
                    claimsJSON: #"{"sub":"u7"}"#)
            ])
        let script = SessionScript()
        script.replies["connect"] = [Self.connect("t7")]
        script.onVerified = { outcome, _ in
            guard case .accepted = outcome else { return [] }
            return [.enterNamespace("/chat"), .publish(SocketInbound(kind: .open, namespace: "/chat"))]
        }
        let (connection, transport) = harness.open(script, identity: .init(), verifier: verifier)
        let news = Envelope(
            id: "n", kind: .emit, namespace: "/chat", target: .user("u7"), event: "news", data: .json("1"))
        harness.deliver(news)
        #expect(transport.sent.isEmpty)

        connection.receivedText("connect", now: .now)
        #expect(script.outcomes == [.accepted(expiresAt: expiry)])
        let open = try #require(try harness.envelopes().last)
        #expect(open.kind == .open && open.user == "u7" && open.claims == #"{"sub":"u7"}"#)
        // The first identity is no refresh: handlers hear of it through the open alone.
        #expect(try harness.envelopes().allSatisfy { $0.kind != .refresh })

        harness.deliver(news)
        #expect(transport.texts == [#"42/chat,["news",1]"#])
        // And it is now subject to token revocation by its jti.
        harness.deliver(Envelope(id: "r", kind: .disconnect, target: .token("j7"), reason: "token_revoked"))
        #expect(script.endCauses == [.revoked])
    }

    @Test func refreshesForAnotherSubjectOrWithFewerScopesAreRefusedAndTheOldExpiryStands() throws {
        let harness = try SocketHubHarness()
        let start = ContinuousClock.now
        let verifier = tokenVerifier(
            on: harness.loop,
            [
                "other": Identity(subject: "u2", scopes: ["read", "write"], source: .jwt(keyID: nil)),
                "narrower": Identity(
                    subject: "u1", scopes: ["read"], expiresAt: unixNow() + 3600, source: .jwt(keyID: nil)),
            ])
        let script = SessionScript()
        script.replies["refresh other"] = [Self.refresh("other")]
        script.replies["refresh narrower"] = [Self.refresh("narrower")]
        script.replies["refresh stale"] = [Self.refresh("stale")]
        let (connection, transport) = harness.open(
            script,
            identity: .init(
                user: "u1", claims: #"{"sub":"u1"}"#, expiresAt: unixNow() + 60, scopes: ["read", "write"]),
            now: start, verifier: verifier)
        connection.receivedText("refresh other", now: start)
        connection.receivedText("refresh narrower", now: start)
        connection.receivedText("refresh stale", now: start)

        let codes = script.outcomes.map { outcome -> String in
            if case .refused(let code, _) = outcome { code } else { "\(outcome)" }
        }
        #expect(codes == ["wrong_subject", "fewer_scopes", "expired"])
        #expect(try harness.envelopes().allSatisfy { $0.kind != .refresh })

        connection.tick(now: start.advanced(by: .seconds(30)))
        #expect(script.endCauses.isEmpty)
        connection.tick(now: start.advanced(by: .seconds(61)))
        #expect(script.endCauses == [.expired])
        #expect(transport.closes == [.expired])
        #expect(transport.texts.last == "bye expired")
    }

    @Test func anAcceptedRefreshMovesTheExpiryAndIsAnnounced() throws {
        let harness = try SocketHubHarness()
        let start = ContinuousClock.now
        let later = unixNow() + 3600
        let verifier = tokenVerifier(
            on: harness.loop,
            [
                "later": Identity(
                    subject: "u1", scopes: ["read", "write", "admin"], expiresAt: later, tokenId: "j2",
                    source: .jwt(keyID: "k1"), claimsJSON: #"{"sub":"u1","n":2}"#)
            ])
        let script = SessionScript()
        script.replies["refresh"] = [Self.refresh("later")]
        let (connection, transport) = harness.open(
            script,
            identity: .init(
                user: "u1", claims: #"{"sub":"u1","n":1}"#, expiresAt: unixNow() + 60, scopes: ["read"], tokenID: "j1"),
            now: start, verifier: verifier)
        connection.receivedText("refresh", now: start)

        #expect(script.outcomes == [.accepted(expiresAt: later)])
        let refresh = try #require(try harness.envelopes().last)
        #expect(refresh.kind == .refresh && refresh.user == "u1" && refresh.connection == connection.id)
        #expect(refresh.claims == #"{"sub":"u1","n":2}"#)

        connection.tick(now: start.advanced(by: .seconds(120)))
        #expect(script.endCauses.isEmpty && transport.closes.isEmpty)
        // Revocations now follow the new token's jti, not the old one's.
        harness.deliver(Envelope(id: "r1", kind: .disconnect, target: .token("j1"), reason: "token_revoked"))
        #expect(script.endCauses.isEmpty)
        connection.tick(now: start.advanced(by: .seconds(3700)))
        #expect(script.endCauses == [.expired])
    }

    // MARK: Limits and failures

    @Test func theRateLimitGetsTheProtocolsNoticeThenCloses() throws {
        let harness = try SocketHubHarness()
        let script = SessionScript()
        script.replies["hi"] = [message("/", event: "hi")]
        let (connection, transport) = harness.open(
            script,
            settings: { $0.rateLimit = SocketAction.RateLimit(messagesPerSecond: 0.001, burst: 2, closeAfter: 3) })
        let now = ContinuousClock.now
        for _ in 0..<6 {
            connection.receivedText("hi", now: now)
        }
        #expect(
            script.events == [
                .start, .text("hi"), .text("hi"), .rateLimited, .rateLimited, .end(.rateLimited),
            ])
        #expect(transport.texts == ["slow down", "slow down", "bye rate_limit"])
        #expect(transport.closes == [.rateLimited])
        #expect(try harness.envelopes().filter { $0.kind == .message }.count == 2)
    }

    @Test func aFailedAppendIsAnsweredWithTheProtocolsError() throws {
        let harness = try SocketHubHarness()
        let script = SessionScript()
        script.replies["hi"] = [message("/", event: "hi")]
        script.onPublishFailed = [.send(.text("not delivered"))]
        let (connection, transport) = harness.open(script)
        let inbound = SocketInbound(kind: .message, namespace: "/", event: "hi", data: .json("1"))

        harness.bus.failure = RedisError(code: .bufferFull, message: "full", isRetrySafe: true)
        connection.receivedText("hi", now: .now)
        harness.bus.failure = RedisError(code: .connectionClosed, message: "refused", isRetrySafe: false)
        connection.receivedText("hi", now: .now)

        let failures = script.events.filter {
            if case .publishFailed = $0 { true } else { false }
        }
        #expect(
            failures == [
                .publishFailed(inbound, busUnavailable: true), .publishFailed(inbound, busUnavailable: false),
            ])
        #expect(transport.texts == ["not delivered", "not delivered"])
        #expect(transport.closes.isEmpty)
    }
}
