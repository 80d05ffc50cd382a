import PortcullisTestSupport
import PortcullisWire
import Testing

/// The open packet and the request query, against protocols.md §1.1/§1.3, the
/// engine.io-protocol README and test suite, and the reference server's error table.
@Suite struct EngineIOHandshakeTests {
    private func refusal(
        _ query: Substring, transports: [EngineIORequestQuery.Transport] = EngineIORequestQuery.Transport.allCases
    ) -> EngineIORequestError? {
        do {
            _ = try EngineIORequestQuery(query: query, transports: transports)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Open packet

    @Test func webSocketOpenPacketMatchesTheRecordedFrame() {
        let open = EngineIOOpenPacket(sid: "Xy7kP2qQ9rT1uV3wA0bC")
        #expect(
            open.packet.webSocketFrame
                == .text(
                    #"0{"sid":"Xy7kP2qQ9rT1uV3wA0bC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
                ))
    }

    @Test func pollingOpenPacketListsTheWebSocketUpgrade() {
        let open = EngineIOOpenPacket(
            sid: "lv_VI97HAXpY6yYWAAAC", upgrades: ["websocket"], pingInterval: .milliseconds(300),
            pingTimeout: .milliseconds(200))
        #expect(
            open.json
                == #"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#
        )
    }

    @Test func openPacketDurationsAreWholeMilliseconds() {
        let open = EngineIOOpenPacket(
            sid: "s", pingInterval: .microseconds(25_000_999), pingTimeout: .seconds(-1), maxPayload: 65536)
        #expect(open.json == #"{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":0,"maxPayload":65536}"#)
    }

    @Test func openPacketEscapesTheSessionID() {
        #expect(EngineIOOpenPacket(sid: "a\"b\\c").json.hasPrefix(#"{"sid":"a\"b\\c","#))
    }

    @Test func sessionIDsAreTwentyURLSafeCharactersAndRepeatableWithASeededGenerator() {
        var first = SplitMix(seed: 7)
        var second = SplitMix(seed: 7)
        let sid = EngineIOOpenPacket.makeSessionID(using: &first)
        #expect(sid.utf8.count == 20)
        #expect(sid.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        #expect(EngineIOOpenPacket.makeSessionID(using: &second) == sid)
        #expect(EngineIOOpenPacket.makeSessionID(using: &first) != sid)
    }

    // MARK: Query

    @Test func webSocketOnlyClientQueryParses() throws {
        let query = try EngineIORequestQuery(target: "/socket.io/?EIO=4&transport=websocket")
        #expect(query.transport == .websocket)
        #expect(query.sid == nil)
        #expect(query.isHandshake)
        #expect(query.parameters.isEmpty)
    }

    @Test func pollingRequestKeepsSidCacheBusterAndClientParameters() throws {
        let query = try EngineIORequestQuery(
            target:
                "/socket.io/?room=a%20b+c&EIO=4&transport=polling&t=N8hyd7H&sid=lv_VI97HAXpY6yYWAAAC&x&room=%E2%82%AC#frag"
        )
        #expect(query.transport == .polling)
        #expect(query.sid == "lv_VI97HAXpY6yYWAAAC")
        #expect(!query.isHandshake)
        #expect(query.cacheBuster == "N8hyd7H")
        #expect(
            query.parameters == [
                .init(name: "room", value: "a b c"), .init(name: "x", value: ""),
                .init(name: "room", value: "\u{20AC}"),
            ])
        #expect(query.value(of: "room") == "a b c")
        #expect(query.value(of: "missing") == nil)
    }

    @Test func emptySidIsAHandshakeAsInTheReference() throws {
        #expect(try EngineIORequestQuery(query: "EIO=4&transport=polling&sid=").isHandshake)
    }

    @Test(arguments: [
        "EIO=3&transport=websocket", "transport=websocket", "EIO=abc&transport=polling", "EIO=&transport=polling",
        "EIO=4.0&transport=polling",
    ])
    func otherProtocolVersionsGetCode5(_ query: String) {
        let error = self.refusal(query[...])
        #expect(error?.code == .unsupportedProtocolVersion)
        #expect(error?.httpStatus == 400)
        #expect(error?.jsonBody == #"{"code":5,"message":"Unsupported protocol version"}"#)
    }

    @Test(arguments: [
        "EIO=4", "EIO=4&transport=abc", "EIO=4&transport=webtransport", "EIO=4&transport=WebSocket",
        "EIO=3&transport=abc",
    ])
    func unknownOrMissingTransportGetsCode0BeforeTheVersionCheck(_ query: String) {
        let error = self.refusal(query[...])
        #expect(error?.code == .unknownTransport)
        #expect(error?.jsonBody == #"{"code":0,"message":"Transport unknown"}"#)
    }

    @Test func transportTheRouteDoesNotServeIsUnknown() {
        #expect(self.refusal("EIO=4&transport=polling", transports: [.websocket])?.code == .unknownTransport)
        #expect(self.refusal("EIO=4&transport=websocket", transports: [.websocket]) == nil)
    }

    @Test(arguments: [
        "EIO=4&EIO=4&transport=polling", "EIO=4&transport=polling&transport=polling",
        "EIO=4&transport=polling&sid=a&sid=b",
        "EIO=4&transport=polling&t=1&t=2", "EIO=4&transport=polling&x=%zz", "EIO=4&transport=polling&x=%4",
        "EIO=4&transport=polling&x=%C3", "EIO=4&transport=polling&%=1",
    ])
    func malformedOrAmbiguousQueryIsABadRequest(_ query: String) {
        let error = self.refusal(query[...])
        #expect(error?.code == .badRequest)
        #expect(error?.jsonBody == #"{"code":3,"message":"Bad request"}"#)
    }

    @Test func percentEncodedReservedNamesCountAsThemselves() throws {
        let query = try EngineIORequestQuery(query: "%45IO=4&transport=%77ebsocket")
        #expect(query.transport == .websocket)
    }

    @Test func targetWithoutAQueryLacksATransport() {
        #expect(throws: EngineIORequestError.self) { try EngineIORequestQuery(target: "/socket.io/") }
    }

    // MARK: Request checks

    @Test func handshakeMustBeAGetAndGetsCode2Otherwise() throws {
        let query = try EngineIORequestQuery(query: "EIO=4&transport=polling")
        #expect(throws: Never.self) { try query.check(method: "GET", isWebSocketUpgrade: false) }
        for method in ["POST", "PUT"] {
            #expect {
                try query.check(method: method, isWebSocketUpgrade: false)
            } throws: { error in
                (error as? EngineIORequestError)?.jsonBody == #"{"code":2,"message":"Bad handshake method"}"#
            }
        }
    }

    @Test func postWithASidIsNotAHandshake() throws {
        let query = try EngineIORequestQuery(query: "EIO=4&transport=polling&sid=abc")
        #expect(throws: Never.self) { try query.check(method: "POST", isWebSocketUpgrade: false) }
    }

    @Test func transportMustAgreeWithTheUpgrade() throws {
        let webSocket = try EngineIORequestQuery(query: "EIO=4&transport=websocket")
        let polling = try EngineIORequestQuery(query: "EIO=4&transport=polling&sid=abc")
        #expect(throws: Never.self) { try webSocket.check(method: "GET", isWebSocketUpgrade: true) }
        #expect(throws: EngineIORequestError.self) { try webSocket.check(method: "GET", isWebSocketUpgrade: false) }
        #expect(throws: EngineIORequestError.self) { try polling.check(method: "GET", isWebSocketUpgrade: true) }
    }

    // MARK: Error answers

    @Test func everyCodeHasTheReferenceMessage() {
        let codes: [(EngineIORequestError.Code, Int, String)] = [
            (.unknownTransport, 0, "Transport unknown"), (.unknownSessionID, 1, "Session ID unknown"),
            (.badHandshakeMethod, 2, "Bad handshake method"), (.badRequest, 3, "Bad request"),
            (.forbidden, 4, "Forbidden"), (.unsupportedProtocolVersion, 5, "Unsupported protocol version"),
        ]
        for (code, value, message) in codes {
            let error = EngineIORequestError(code: code)
            #expect(error.code.value == value)
            #expect(error.jsonBody == "{\"code\":\(value),\"message\":\"\(message)\"}")
            #expect(error.httpStatus == (value == 4 ? 403 : 400))
        }
    }

    @Test func forbiddenCarriesTheApplicationsMessageEscaped() {
        let error = EngineIORequestError(code: .forbidden, message: "no \"guests\"")
        #expect(error.httpStatus == 403)
        #expect(error.jsonBody == #"{"code":4,"message":"no \"guests\""}"#)
    }

    @Test func reasonStaysOutOfTheAnswer() {
        let error = self.refusal("EIO=4&transport=polling&sid=a&sid=b")
        #expect(error?.reason == "duplicate sid")
        #expect(error?.jsonBody.contains("sid") == false)
    }
}
