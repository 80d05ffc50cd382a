import PortcullisWire
import Testing

/// The Engine.IO 4 + Socket.IO v5 session driven from recorded client sequences: the open
/// packet, the heartbeat, joining namespaces and the messages on them (protocols.md §1–§2,
/// the socket.io-protocol test suite).
@Suite struct SocketIOSessionTests {
    // MARK: Open and heartbeat

    @Test func startSendsTheOpenPacketWithExactlyTheFiveKeys() {
        var driver = SocketIOSessionDriver()
        #expect(
            driver.start() == [
                .sent(
                    #"0{"sid":"Xy7kP2qQ9rT1uV3wA0bC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
                )
            ])
        #expect(driver.start() == [])
    }

    @Test func pollingSessionOffersTheWebSocketUpgradeWithItsOwnTimers() {
        var configuration = SocketIOSessionDriver.configuration()
        configuration.upgrades = ["websocket"]
        configuration.pingInterval = .milliseconds(300)
        configuration.pingTimeout = .milliseconds(200)
        var driver = SocketIOSessionDriver(configuration)
        #expect(
            driver.start() == [
                .sent(
                    #"0{"sid":"Xy7kP2qQ9rT1uV3wA0bC","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#
                )
            ])
    }

    @Test func nothingIsArmedBeforeStart() {
        let driver = SocketIOSessionDriver()
        #expect(driver.nextDeadline == nil)
    }

    @Test func serverPingsEveryIntervalAndAPongPostponesTheNext() {
        var driver = SocketIOSessionDriver()
        driver.start()
        driver.receive("40")
        #expect(driver.nextDeadline == driver.at(25))
        #expect(driver.tick(at: 24.9) == [])
        #expect(driver.tick(at: 25) == [.sent("2")])
        #expect(driver.nextDeadline == driver.at(45))
        #expect(driver.receive("3", at: 26) == [])
        #expect(driver.nextDeadline == driver.at(51))
        #expect(driver.tick(at: 45) == [])
        #expect(driver.tick(at: 51) == [.sent("2")])
    }

    @Test func missingPongClosesWithPingTimeoutAfterLeavingEveryNamespace() {
        var driver = SocketIOSessionDriver()
        driver.start()
        driver.receive("40")
        #expect(driver.tick(at: 25) == [.sent("2")])
        #expect(driver.tick(at: 44.9) == [])
        #expect(
            driver.tick(at: 45)
                == SocketSessionAction.left("/", reason: "ping timeout") + [.close(.engineIOPingTimeout)])
        #expect(driver.nextDeadline == nil)
        #expect(driver.receive("3", at: 46) == [])
        #expect(driver.tick(at: 70) == [])
    }

    @Test func clientPingIsTheWrongHeartbeatDirectionAndCloses() {
        var driver = SocketIOSessionDriver()
        driver.start()
        #expect(driver.receive("2") == [.close(.engineIOHeartbeatDirection)])
    }

    @Test func clientClosePacketClosesTheSession() {
        var driver = SocketIOSessionDriver()
        driver.start()
        driver.receive("40")
        #expect(
            driver.receive("1")
                == SocketSessionAction.left("/", reason: "client closed (1000)")
                + [.close(.clientClosed(code: .normalClosure))])
    }

    @Test func upgradeAndNoopPacketsAreIgnoredAsTheReferenceServerIgnoresThem() {
        var driver = SocketIOSessionDriver()
        driver.start()
        #expect(driver.receive("5", "6") == [])
        #expect(driver.nextDeadline == driver.at(25))
    }

    @Test func noNamespaceWithinTheConnectTimeoutCloses() {
        var driver = SocketIOSessionDriver(SocketIOSessionDriver.configuration(connectTimeout: .seconds(10)))
        driver.start()
        #expect(driver.nextDeadline == driver.at(10))
        #expect(driver.tick(at: 9.9) == [])
        #expect(driver.tick(at: 10) == [.close(.socketIOConnectTimeout)])
        #expect(driver.nextDeadline == nil)
    }

    @Test func joiningANamespaceDisarmsTheConnectTimeout() {
        var driver = SocketIOSessionDriver(SocketIOSessionDriver.configuration(connectTimeout: .seconds(10)))
        driver.start()
        driver.receive("40", at: 5)
        #expect(driver.nextDeadline == driver.at(25))
        #expect(driver.tick(at: 10) == [])
    }

    // MARK: Parse errors

    @Test(arguments: [
        "", "7", "4abc", "42{}", #"42abc["message-with-ack",1,"2",{"3":[false]}]"#, #"42["connect"]"#, "42[1]",
        "40[]", "41[]", "b!!", #"42["a"]x"#, "4", #"4-1["a"]"#,
    ])
    func invalidPacketClosesWithAParseError(_ text: String) {
        var driver = SocketIOSessionDriver()
        driver.start()
        driver.receive("40")
        let actions = driver.receive(.text(text))
        let cause = actions.last?.closeCause
        #expect(cause?.label == "protocol_error")
        #expect(cause?.code == .protocolError)
        #expect(cause?.description.hasPrefix("protocol error: parse error (") == true)
        #expect(actions.dropLast() == SocketSessionAction.left("/", reason: cause?.description ?? "")[...])
        #expect(driver.nextDeadline == nil)
    }

    @Test func oversizedMessageClosesWith1009() {
        var driver = SocketIOSessionDriver(SocketIOSessionDriver.configuration(maxPayload: 16))
        driver.start()
        #expect(driver.receive(#"42["abcdefghijklmn"]"#).last?.closeCause?.code == .messageTooBig)
        var binary = SocketIOSessionDriver(SocketIOSessionDriver.configuration(maxPayload: 16))
        binary.start()
        #expect(binary.receive(.binary(Array(repeating: 0, count: 17))).last?.closeCause?.code == .messageTooBig)
    }

    // MARK: CONNECT

    @Test func connectToTheMainNamespaceAnswersWithASocketIDAndPublishesOpen() {
        var driver = SocketIOSessionDriver()
        driver.start()
        #expect(driver.receive("40") == SocketSessionAction.joined("/"))
        #expect(driver.session.encodings(for: "/") == [SocketEncoding(format: .socketIO, namespace: "/")])
    }

    @Test func connectToACustomNamespaceCarriesItsAuthIntoOpen() {
        var driver = SocketIOSessionDriver()
        driver.start()
        #expect(
            driver.receive(#"40/custom,{"token":"abc"}"#)
                == SocketSessionAction.joined("/custom", auth: #"{"token":"abc"}"#))
        #expect(driver.receive("40/admin") == SocketSessionAction.joined("/admin"))
    }

    /// The id a client reads as `socket.id` is the one `except` and connection targets
    /// take on the bus: the connection's, in every namespace and after a rejoin.
    @Test func socketIDIsTheConnectionIDInEveryNamespace() {
        var driver = SocketIOSessionDriver()
        driver.start()
        #expect(driver.receive("40").first == .sent(#"40{"sid":"edge1.c9"}"#))
        #expect(driver.receive("40/admin,").first == .sent(#"40/admin,{"sid":"edge1.c9"}"#))
        driver.receive("41/admin,")
        #expect(driver.receive("40/admin,").first == .sent(#"40/admin,{"sid":"edge1.c9"}"#))
    }

    @Test func repeatedQueryParametersReachHandlersAsArrays() {
        var configuration = SocketIOSessionDriver.configuration()
        configuration.handshakeQuery = [
            .init(name: "a", value: "1"), .init(name: "b\"", value: "x"), .init(name: "a", value: "2"),
        ]
        var driver = SocketIOSessionDriver(configuration)
        driver.start()
        #expect(
            driver.receive("40").last
                == .publish(
                    SocketInbound(
                        kind: .open, namespace: "/", data: .json(#"{"query":{"a":["1","2"],"b\"":"x"},"auth":null}"#)))
        )
    }

    @Test func unknownNamespaceIsRefusedWithoutClosingTheConnection() {
        var driver = SocketIOSessionDriver()
        driver.start()
        #expect(driver.receive("40/random") == [.sent(#"44/random,{"message":"Invalid namespace"}"#)])
        #expect(driver.session.encodings(for: "/random") == [])
        #expect(driver.nextDeadline == driver.at(25))
        #expect(driver.receive("40") == SocketSessionAction.joined("/"))
    }

    @Test func mainNamespaceIsRefusedWhenTheListLeavesItOut() {
        var driver = SocketIOSessionDriver(SocketIOSessionDriver.configuration(allowedNamespaces: ["/admin"]))
        driver.start()
        #expect(driver.receive("40") == [.sent(#"44{"message":"Invalid namespace"}"#)])
    }

    @Test func wildcardAllowsAnyNamespace() {
        var driver = SocketIOSessionDriver(SocketIOSessionDriver.configuration(allowedNamespaces: ["*"]))
        driver.start()
        #expect(driver.receive("40/anything,") == SocketSessionAction.joined("/anything"))
    }

    @Test func secondConnectToAJoinedNamespaceClosesAsTheReferenceDoes() {
        var driver = SocketIOSessionDriver()
        driver.start()
        driver.receive("40")
        #expect(
            driver.receive("40")
                == SocketSessionAction.left("/", reason: "protocol error: invalid state")
                + [.close(.socketIOInvalidState)])
    }

    @Test func connectErrorFromTheClientCloses() {
        var driver = SocketIOSessionDriver()
        driver.start()
        #expect(driver.receive(#"44{"message":"x"}"#) == [.close(.socketIOInvalidState)])
    }

    // MARK: Authentication on CONNECT

    @Test func tokenInAuthIsVerifiedBeforeJoining() {
        var driver = SocketIOSessionDriver(SocketIOSessionDriver.configuration(readsAuthToken: true))
        driver.start()
        let request = SocketVerification(
            token: "abc", purpose: .connect(namespace: "/", auth: #"{"token":"abc","v":2}"#))
        #expect(driver.receive(#"40{"token":"abc","v":2}"#) == [.verify(request)])
        #expect(driver.session.encodings(for: "/") == [])
        #expect(
            driver.verified(.accepted(expiresAt: 1_900_000_000), for: request)
                == SocketSessionAction.joined("/", auth: #"{"token":"abc","v":2}"#))
        #expect(driver.verified(.accepted(expiresAt: 1_900_000_000), for: request) == [])
        // The identity now held lets another namespace join without a token.
        #expect(driver.receive("40/admin,") == SocketSessionAction.joined("/admin"))
    }

    @Test func connectWithoutTokenAsksTheEdgeWhenNoIdentityIsHeld() {
        var driver = SocketIOSessionDriver(SocketIOSessionDriver.configuration(readsAuthToken: true))
        driver.start()
        let request = SocketVerification(token: nil, purpose: .connect(namespace: "/admin", auth: #"{"token":null}"#))
        #expect(driver.receive(#"40/admin,{"token":null}"#) == [.verify(request)])
        #expect(
            driver.verified(.refused(code: "missing_token", message: "Not authorized"), for: request) == [
                .sent(#"44/admin,{"message":"Not authorized","data":{"code":"missing_token"}}"#)
            ])
        #expect(driver.session.encodings(for: "/admin") == [])
        #expect(driver.nextDeadline == driver.at(25))
        #expect(driver.tick(at: 45) == [.close(.socketIOConnectTimeout)])
    }

    @Test func connectionWithAHandshakeIdentityJoinsWithoutAToken() {
        var driver = SocketIOSessionDriver(
            SocketIOSessionDriver.configuration(hasHandshakeIdentity: true, readsAuthToken: true))
        driver.start()
        #expect(driver.receive("40") == SocketSessionAction.joined("/"))
        let request = SocketVerification(token: "t2", purpose: .connect(namespace: "/admin", auth: #"{"token":"t2"}"#))
        #expect(driver.receive(#"40/admin,{"token":"t2"}"#) == [.verify(request)])
        #expect(
            driver.verified(.notRequired, for: request)
                == SocketSessionAction.joined("/admin", auth: #"{"token":"t2"}"#))
    }

    @Test func routeThatReadsNoAuthTokenIgnoresOne() {
        var driver = SocketIOSessionDriver()
        driver.start()
        #expect(
            driver.receive(#"40{"token":"abc"}"#) == SocketSessionAction.joined("/", auth: #"{"token":"abc"}"#))
    }

    @Test func twoTokenMembersAreRefusedRatherThanGuessed() {
        var driver = SocketIOSessionDriver(SocketIOSessionDriver.configuration(readsAuthToken: true))
        driver.start()
        #expect(
            driver.receive(#"40{"token":"a","token":"b"}"#) == [
                .sent(#"44{"message":"malformed token","data":{"code":"malformed"}}"#)
            ])
        #expect(driver.receive("40").count == 1)
    }

    @Test func eventOnANamespaceAwaitingVerificationCloses() {
        var driver = SocketIOSessionDriver(SocketIOSessionDriver.configuration(readsAuthToken: true))
        driver.start()
        driver.receive(#"40{"token":"abc"}"#)
        #expect(driver.receive(#"42["chat"]"#) == [.close(.socketIOInvalidState)])
    }

    // MARK: Events and acks

    @Test func eventOnAJoinedNamespaceIsPublishedWithItsArgumentsAsSent() {
        var driver = SocketIOSessionDriver()
        driver.start()
        driver.receive("40")
        #expect(
            driver.receive(#"42["chat",{"t":"hi", "n":1.50}]"#) == [
                .publish(
                    SocketInbound(
                        kind: .message, namespace: "/", event: "chat", data: .json(#"[{"t":"hi", "n":1.50}]"#),
                        arguments: true))
            ])
        #expect(
            driver.receive(#"42456["message-with-ack",1,"2",{"3":[false]}]"#) == [
                .publish(
                    SocketInbound(
                        kind: .message, namespace: "/", event: "message-with-ack",
                        data: .json(#"[1,"2",{"3":[false]}]"#),
                        ack: 456, arguments: true))
            ])
        #expect(
            driver.receive(#"42["ping"]"#) == [
                .publish(
                    SocketInbound(kind: .message, namespace: "/", event: "ping", data: .json("[]"), arguments: true))
            ])
    }

    @Test func eventOnANamespaceNotJoinedClosesAsTheReferenceDoes() {
        var driver = SocketIOSessionDriver()
        driver.start()
        driver.receive("40")
        #expect(
            driver.receive(#"42/admin,["chat"]"#)
                == SocketSessionAction.left("/", reason: "protocol error: invalid state")
                + [.close(.socketIOInvalidState)])
    }

    @Test func ackFromTheClientIsPublishedAsAnAck() {
        var driver = SocketIOSessionDriver()
        driver.start()
        driver.receive("40/admin,")
        #expect(
            driver.receive(#"43/admin,17["pong",2]"#) == [
                .publish(
                    SocketInbound(
                        kind: .ack, namespace: "/admin", data: .json(#"["pong",2]"#), ack: 17, arguments: true))
            ])
        #expect(driver.receive("433[]").last == .close(.socketIOInvalidState))
    }

    @Test func binaryEventIsPublishedWithItsAttachmentsOnceTheLastArrives() {
        var driver = SocketIOSessionDriver()
        driver.start()
        driver.receive("40")
        let header = #"452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
        #expect(driver.receive(.text(header)) == [])
        #expect(driver.receive(.binary([1, 2, 3])) == [])
        // The second attachment as the polling spelling, base64 text.
        #expect(
            driver.receive("bBAUG") == [
                .publish(
                    SocketInbound(
                        kind: .message, namespace: "/", event: "message",
                        data: .json(#"[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#),
                        arguments: true, attachments: [[1, 2, 3], [4, 5, 6]]))
            ])
    }

    @Test func binaryAckIsPublishedWithItsAttachment() {
        var driver = SocketIOSessionDriver()
        driver.start()
        driver.receive("40/admin,")
        #expect(driver.receive(#"461-/admin,17[{"_placeholder":true,"num":0}]"#) == [])
        #expect(
            driver.receive(.binary([0xDE, 0xAD, 0xBE, 0xEF])) == [
                .publish(
                    SocketInbound(
                        kind: .ack, namespace: "/admin", data: .json(#"[{"_placeholder":true,"num":0}]"#), ack: 17,
                        arguments: true, attachments: [[0xDE, 0xAD, 0xBE, 0xEF]]))
            ])
    }

    @Test func tooManyAttachmentsClose() {
        var driver = SocketIOSessionDriver(SocketIOSessionDriver.configuration(maxAttachments: 2))
        driver.start()
        let actions = driver.receive(
            #"453-["m",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]"#)
        #expect(actions.count == 1)
        #expect(actions.last?.closeCause?.description == "protocol error: parse error (too_many_attachments)")
    }

    @Test func attachmentsOverThePacketBoundCloseWith1009BeforeTheyAreAllHeld() {
        var driver = SocketIOSessionDriver(SocketIOSessionDriver.configuration(maxPacketSize: 100))
        driver.start()
        driver.receive("40")
        driver.receive(#"452-["m",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        #expect(driver.receive(.binary(Array(repeating: 7, count: 20))) == [])
        let actions = driver.receive(.binary(Array(repeating: 7, count: 20)))
        #expect(actions.last?.closeCause?.code == .messageTooBig)
        #expect(actions.last?.closeCause?.description == "protocol error: parse error (packet_too_large)")
    }

    @Test func attachmentWithNoBinaryPacketOpenCloses() {
        var driver = SocketIOSessionDriver()
        driver.start()
        driver.receive("40")
        #expect(
            driver.receive(.binary([1])).last?.closeCause?.description
                == "protocol error: parse error (unexpected_attachment)")
    }

    @Test func textWhileAttachmentsAreAwaitedCloses() {
        var driver = SocketIOSessionDriver()
        driver.start()
        driver.receive("40", #"451-["m",{"_placeholder":true,"num":0}]"#)
        #expect(
            driver.receive(#"42["chat"]"#).last?.closeCause?.description
                == "protocol error: parse error (unexpected_text)")
    }

    // MARK: DISCONNECT from the client

    @Test func clientDisconnectLeavesOneNamespaceAndKeepsTheConnection() {
        var driver = SocketIOSessionDriver()
        driver.start()
        driver.receive("40", "40/custom")
        #expect(
            driver.receive("41/custom") == SocketSessionAction.left("/custom", reason: "client namespace disconnect"))
        #expect(driver.session.encodings(for: "/custom") == [])
        #expect(
            driver.receive(#"42["message","message to main namespace"]"#) == [
                .publish(
                    SocketInbound(
                        kind: .message, namespace: "/", event: "message",
                        data: .json(#"["message to main namespace"]"#),
                        arguments: true))
            ])
        #expect(driver.receive("41") == SocketSessionAction.left("/", reason: "client namespace disconnect"))
        #expect(driver.tick(at: 25) == [.sent("2")])
    }

    @Test func disconnectFromANamespaceNotJoinedCloses() {
        var driver = SocketIOSessionDriver()
        driver.start()
        #expect(driver.receive("41/admin,") == [.close(.socketIOInvalidState)])
    }

    // MARK: Encodings

    @Test func encodingsExistOnlyForJoinedNamespacesWithNilMeaningMain() {
        var driver = SocketIOSessionDriver()
        driver.start()
        #expect(driver.session.encodings(for: nil) == [])
        driver.receive("40/admin,")
        #expect(driver.session.encodings(for: nil) == [])
        #expect(driver.session.encodings(for: "/admin") == [SocketEncoding(format: .socketIO, namespace: "/admin")])
        driver.receive("40")
        #expect(driver.session.encodings(for: nil) == [SocketEncoding(format: .socketIO, namespace: "/")])
        #expect(driver.session.encodings(for: "admin") == [])
    }
}
