import NIOHTTP1
import PortcullisConfig
import Testing

@testable import PortcullisEdge

/// RFC 6455 §4.2 on socket routes: what is refused with which status, and the 101.
@Suite struct WebSocketHandshakeTests {
    private func upgrade(_ extra: [(String, String)] = [], drop: [String] = [], method: HTTPMethod = .GET)
        -> HTTPRequestHead
    {
        var headers = HTTPHeaders([
            ("host", "rt.example.com"), ("upgrade", "websocket"), ("connection", "keep-alive, Upgrade"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="), ("sec-websocket-version", "13"),
        ])
        for name in drop { headers.remove(name: name) }
        headers.add(contentsOf: extra)
        return HTTPRequestHead(version: .http1_1, method: method, uri: "/ws", headers: headers)
    }

    // MARK: permessage-deflate

    @Test func deflateOfferOnACompressingRouteIsAnsweredInThe101() throws {
        let head = upgrade([("sec-websocket-extensions", "permessage-deflate; client_max_window_bits")])
        let accepted = try WebSocketHandshake.check(head, subprotocols: [], compression: .init()).get()
        #expect(accepted.deflate?.serverNoContextTakeover == true)
        let response = WebSocketHandshake.response(accepted, version: .http1_1, requestId: "r1")
        #expect(
            response.headers["sec-websocket-extensions"] == [
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
            ])
    }

    @Test func deflateOfferOnARouteWithoutCompressionIsIgnored() throws {
        let head = upgrade([("sec-websocket-extensions", "permessage-deflate")])
        let accepted = try WebSocketHandshake.check(head, subprotocols: []).get()
        #expect(accepted.deflate == nil)
        let response = WebSocketHandshake.response(accepted, version: .http1_1, requestId: "r1")
        #expect(!response.headers.contains(name: "sec-websocket-extensions"))
    }

    @Test func clientOfferingNoExtensionGetsNoneOnACompressingRoute() throws {
        let accepted = try WebSocketHandshake.check(upgrade(), subprotocols: [], compression: .init()).get()
        #expect(accepted.deflate == nil)
        let malformed = upgrade([("sec-websocket-extensions", "permessage-deflate; server_max_window_bits=8")])
        #expect(try WebSocketHandshake.check(malformed, subprotocols: [], compression: .init()).get().deflate == nil)
    }

    @Test func theRFCSampleKeyGetsTheRFCSampleAccept() throws {
        let accepted = try WebSocketHandshake.check(upgrade(), subprotocols: []).get()
        #expect(accepted.accept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(accepted.subprotocol == nil)
        let response = WebSocketHandshake.response(accepted, version: .http1_1, requestId: "r1")
        #expect(response.status == .switchingProtocols)
        #expect(response.headers["sec-websocket-accept"] == ["s3pPLMBiTxaQ9kYGzzhZRbK+xOo="])
        #expect(response.headers["upgrade"] == ["websocket"])
        #expect(response.headers.contains(name: "sec-websocket-protocol") == false)
    }

    @Test func aPlainRequestLearnsTheRouteSpeaksWebSocket() throws {
        let refusal = try #require(
            WebSocketHandshake.check(upgrade(drop: ["upgrade", "connection"]), subprotocols: []).failure)
        #expect(refusal.status == .upgradeRequired)
        #expect(refusal.headers.contains { $0 == ("sec-websocket-version", "13") })
    }

    @Test func anotherVersionGets426WithTheSupportedVersion() throws {
        let head = upgrade([("sec-websocket-version", "8")], drop: ["sec-websocket-version"])
        let refusal = try #require(WebSocketHandshake.check(head, subprotocols: []).failure)
        #expect(refusal.status == .upgradeRequired)
        #expect(refusal.headers.map(\.0) == ["sec-websocket-version"])
    }

    @Test(arguments: ["", "short", "AAECAwQFBgcICQoLDA0ODxA=", "not base64!!"])
    func keysThatAreNot16BytesOfBase64Get400(key: String) throws {
        let head = upgrade([("sec-websocket-key", key)], drop: ["sec-websocket-key"])
        #expect(try #require(WebSocketHandshake.check(head, subprotocols: []).failure).status == .badRequest)
    }

    @Test func postAndBodiesAreRefused() throws {
        #expect(
            try #require(WebSocketHandshake.check(upgrade(method: .POST), subprotocols: []).failure).status
                == .badRequest)
        let withBody = upgrade([("content-length", "5")])
        #expect(try #require(WebSocketHandshake.check(withBody, subprotocols: []).failure).status == .badRequest)
    }

    @Test func theFirstOfferedSubprotocolTheRouteSpeaksIsChosen() throws {
        let head = upgrade([
            ("sec-websocket-protocol", "access_token.abc, chat.v2"), ("sec-websocket-protocol", "chat.v1"),
        ])
        let accepted = try WebSocketHandshake.check(head, subprotocols: ["chat.v1", "chat.v2"]).get()
        #expect(accepted.subprotocol == "chat.v2")
        let none = try WebSocketHandshake.check(head, subprotocols: ["other"]).get()
        #expect(none.subprotocol == nil)
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
