import PortcullisWire
import Testing

/// What the edge and the handlers do to a running Socket.IO session: in-band refresh,
/// failed appends, the edge ending the connection, a handler's decision on one namespace.
@Suite struct SocketIOSessionLifecycleTests {
    /// A started session joined to `/` and `/admin` (socket id `edge1.c9` in both).
    func joined() -> SocketIOSessionDriver {
        var driver = SocketIOSessionDriver()
        driver.start()
        driver.receive("40", "40/admin,")
        return driver
    }

    // MARK: Refresh

    @Test func refreshEventWithAnAckIsVerifiedAndAnsweredNeverPublished() {
        var driver = self.joined()
        let request = SocketVerification(token: "new", purpose: .refresh(namespace: "/", ack: 12))
        #expect(driver.receive(#"4212["verify_user",{"token":"new"}]"#) == [.verify(request)])
        #expect(
            driver.verified(.accepted(expiresAt: 2_000_000_000), for: request) == [.sent(#"4312[{"status":true}]"#)])
        #expect(
            driver.verified(.refused(code: "token_expired", message: "token expired"), for: request) == [
                .sent(#"4312[{"status":false,"reason":"token_expired"}]"#)
            ])
        #expect(driver.verified(.notRequired, for: request) == [.sent(#"4312[{"status":true}]"#)])
    }

    @Test func refreshWithoutAnAckIsAnsweredWithAResultEvent() {
        var driver = self.joined()
        let request = SocketVerification(token: "new", purpose: .refresh(namespace: "/admin", ack: nil))
        #expect(driver.receive(#"42/admin,["verify_user",{"token":"new"}]"#) == [.verify(request)])
        #expect(
            driver.verified(.accepted(expiresAt: nil), for: request) == [
                .sent(#"42/admin,["verify_user_result",{"status":true}]"#)
            ])
    }

    @Test func refreshWithoutATokenIsRefusedAtOnce() {
        var driver = self.joined()
        #expect(
            driver.receive(#"427["verify_user",{}]"#) == [.sent(#"437[{"status":false,"reason":"missing_token"}]"#)])
        #expect(
            driver.receive(#"428["verify_user","tok"]"#) == [.sent(#"438[{"status":false,"reason":"missing_token"}]"#)])
        #expect(
            driver.receive(#"42["verify_user"]"#) == [
                .sent(#"42["verify_user_result",{"status":false,"reason":"missing_token"}]"#)
            ])
    }

    @Test func refreshAnswerForANamespaceLeftMeanwhileIsDropped() {
        var driver = self.joined()
        let request = SocketVerification(token: "new", purpose: .refresh(namespace: "/admin", ack: 3))
        driver.receive(#"42/admin,3["verify_user",{"token":"new"}]"#, "41/admin,")
        #expect(driver.verified(.accepted(expiresAt: nil), for: request) == [])
    }

    // MARK: Failed appends

    @Test func failedAppendAnswersTheMessagesAckWhenItAskedForOne() {
        var driver = self.joined()
        let message = SocketInbound(
            kind: .message, namespace: "/admin", event: "chat", data: .json("[]"), ack: 3, arguments: true)
        #expect(
            driver.session.publishFailed(message, busUnavailable: true) == [
                .sent(#"43/admin,3[{"error":"unavailable"}]"#)
            ])
        #expect(
            driver.session.publishFailed(message, busUnavailable: false) == [.sent(#"43/admin,3[{"error":"refused"}]"#)]
        )
    }

    @Test func failedAppendWithoutAnAckIsDroppedSilently() {
        var driver = self.joined()
        let message = SocketInbound(kind: .message, namespace: "/", event: "chat", data: .json("[]"), arguments: true)
        #expect(driver.session.publishFailed(message, busUnavailable: true) == [])
        let ack = SocketInbound(kind: .ack, namespace: "/", data: .json("[]"), ack: 4, arguments: true)
        #expect(driver.session.publishFailed(ack, busUnavailable: true) == [])
        let elsewhere = SocketInbound(kind: .message, namespace: "/custom", event: "chat", ack: 5)
        #expect(driver.session.publishFailed(elsewhere, busUnavailable: true) == [])
    }

    // MARK: The edge ends the connection

    @Test func expiryNoticeThenDisconnectOnEveryNamespaceThenClose() {
        var driver = self.joined()
        #expect(
            driver.end(.expired) == [
                .sent(#"42["loggedOut",{"reason":"token_expired"}]"#), .sent("41"),
                .sent(#"42/admin,["loggedOut",{"reason":"token_expired"}]"#), .sent("41/admin,"),
            ]
                + SocketSessionAction.left("/", reason: "credentials expired")
                + SocketSessionAction.left("/admin", reason: "credentials expired") + [.close(.expired)])
        #expect(driver.nextDeadline == nil)
        #expect(driver.receive(#"42["chat"]"#) == [])
        #expect(driver.end(.shutdown) == [])
        #expect(driver.session.encodings(for: "/") == [])
    }

    @Test func revocationAndEndedSessionsNameTheirReason() {
        var revoked = SocketIOSessionDriver()
        revoked.start()
        revoked.receive("40")
        #expect(
            revoked.end(.revoked)
                == [.sent(#"42["loggedOut",{"reason":"token_revoked"}]"#), .sent("41")]
                + SocketSessionAction.left("/", reason: "token revoked") + [.close(.revoked)])
        var ended = SocketIOSessionDriver()
        ended.start()
        ended.receive("40")
        #expect(ended.end(.sessionEnded).first == .sent(#"42["loggedOut",{"reason":"session_ended"}]"#))
    }

    @Test func drainSendsNoDisconnectSoTheClientReconnects() {
        var driver = self.joined()
        #expect(
            driver.end(.shutdown)
                == SocketSessionAction.left("/", reason: "server shutting down")
                + SocketSessionAction.left("/admin", reason: "server shutting down") + [.close(.shutdown)])
    }

    @Test func handlerDisconnectSendsDisconnectWithoutTheLoggedOutNotice() {
        var driver = self.joined()
        #expect(
            driver.end(.disconnected(reason: "kicked"))
                == [.sent("41"), .sent("41/admin,")]
                + SocketSessionAction.left("/", reason: "disconnected: kicked")
                + SocketSessionAction.left("/admin", reason: "disconnected: kicked")
                + [.close(.disconnected(reason: "kicked"))])
    }

    @Test func expiryWithoutANoticeEventOnlyDisconnects() {
        var configuration = SocketIOSessionDriver.configuration()
        configuration.expiryNoticeEvent = nil
        var driver = SocketIOSessionDriver(configuration)
        driver.start()
        driver.receive("40")
        #expect(
            driver.end(.expired)
                == [.sent("41")] + SocketSessionAction.left("/", reason: "credentials expired") + [.close(.expired)])
    }

    @Test func namespaceAwaitingVerificationGetsNoGoodbye() {
        var driver = SocketIOSessionDriver(SocketIOSessionDriver.configuration(readsAuthToken: true))
        driver.start()
        let request = SocketVerification(token: "abc", purpose: .connect(namespace: "/", auth: #"{"token":"abc"}"#))
        driver.receive(#"40{"token":"abc"}"#)
        #expect(driver.end(.expired) == [.close(.expired)])
        #expect(driver.verified(.accepted(expiresAt: nil), for: request) == [])
    }

    @Test func endBeforeStartOnlyCloses() {
        var driver = SocketIOSessionDriver()
        #expect(driver.end(.shutdown) == [.close(.shutdown)])
        #expect(driver.start() == [])
    }

    // MARK: Handler decisions

    @Test func handlerDisconnectOfOneNamespaceKeepsTheConnection() {
        var driver = self.joined()
        #expect(
            driver.control(.disconnect(namespace: "/admin", reason: "kicked"))
                == [.sent("41/admin,")] + SocketSessionAction.left("/admin", reason: "disconnected: kicked"))
        #expect(driver.control(.disconnect(namespace: "/admin", reason: "kicked")) == [])
        #expect(driver.session.encodings(for: "/") == [SocketEncoding(format: .socketIO, namespace: "/")])
        #expect(driver.nextDeadline == driver.at(25))
    }

    @Test func handlerRejectSendsConnectErrorAndLeaves() {
        var driver = self.joined()
        #expect(
            driver.control(.reject(namespace: "/", reason: "banned"))
                == [.sent(#"44{"message":"banned"}"#)] + SocketSessionAction.left("/", reason: "rejected: banned"))
        #expect(
            driver.control(.reject(namespace: "/admin", reason: nil))
                == [.sent(#"44/admin,{"message":"Not authorized"}"#)]
                + SocketSessionAction.left("/admin", reason: "rejected"))
        #expect(driver.control(.reject(namespace: "/custom", reason: nil)) == [])
    }

    @Test func rejectWhileVerifyingMakesTheVerdictStale() {
        var driver = SocketIOSessionDriver(SocketIOSessionDriver.configuration(readsAuthToken: true))
        driver.start()
        let request = SocketVerification(token: "abc", purpose: .connect(namespace: "/", auth: #"{"token":"abc"}"#))
        driver.receive(#"40{"token":"abc"}"#)
        #expect(driver.control(.reject(namespace: "/", reason: "no")) == [.sent(#"44{"message":"no"}"#)])
        #expect(driver.verified(.accepted(expiresAt: nil), for: request) == [])
    }

    @Test func confirmIsTheEdgesJobAndIgnored() {
        var driver = self.joined()
        #expect(driver.control(.confirm(namespace: "/")) == [])
    }
}
