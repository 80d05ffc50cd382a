import Testing

@testable import PortcullisAuth

@Suite struct TokenExtractionTests {
    @Test(
        arguments: [
            ("Bearer abc.def.ghi", "abc.def.ghi"), ("bearer abc", "abc"), ("BEARER abc", "abc"),
            ("Bearer a+/b==", "a+/b=="),
            ("Bearer  abc", nil), ("Bearer", nil), ("Bearer ", nil), ("Basic dXNlcjpwYXNz", nil), ("Bearer a b", nil),
            ("Bearer a=b", nil), ("Bearerabc", nil), ("Bearer\tabc", nil),
        ] as [(String, String?)])
    func bearerTokenFromTheAuthorizationHeader(header: String, expected: String?) {
        #expect(TokenExtraction.bearer(authorization: header) == expected)
    }

    @Test func queryParameterIsDecodedAndFirstWins() {
        #expect(TokenExtraction.queryParameter("token", target: "/ws?EIO=4&token=abc.def&token=zzz") == "abc.def")
        #expect(TokenExtraction.queryParameter("token", target: "/ws?to%6Ben=a%2Eb%2Bc+d") == "a.b+c d")
        #expect(TokenExtraction.queryParameter("token", target: "/ws?token=abc#frag") == "abc")
        #expect(TokenExtraction.queryParameter("token", target: "/ws?tokens=abc") == nil)
        #expect(TokenExtraction.queryParameter("token", target: "/ws?token=") == nil)
        #expect(TokenExtraction.queryParameter("token", target: "/ws?token") == nil)
        #expect(TokenExtraction.queryParameter("token", target: "/ws?token=%zz") == nil)
        #expect(TokenExtraction.queryParameter("token", target: "/ws/token=abc") == nil)
    }

    @Test func cookieTokenIsURLDecoded() {
        #expect(TokenExtraction.cookie("access_token", headers: ["a=1; access_token=eyJ.x%2Ey"]) == "eyJ.x.y")
        #expect(TokenExtraction.cookie("access_token", headers: ["access_token=%E0%A4%A"]) == "%E0%A4%A")
        #expect(TokenExtraction.cookie("access_token", headers: ["access_token="]) == nil)
        #expect(TokenExtraction.cookie("access_token", headers: []) == nil)
    }

    @Test func webSocketSubprotocolCarriesTheTokenAndTheRealProtocols() {
        let found = TokenExtraction.webSocketProtocol(headers: [
            "chat.v2, access_token.eyJh.eyJz.sig", "actioncable-v1-json",
        ])
        #expect(found?.token == "eyJh.eyJz.sig")
        #expect(found?.otherProtocols == ["chat.v2", "actioncable-v1-json"])
        #expect(TokenExtraction.webSocketProtocol(headers: ["chat.v2"]) == nil)
        #expect(TokenExtraction.webSocketProtocol(headers: ["access_token."]) == nil)
        #expect(TokenExtraction.webSocketProtocol(headers: ["bearer.abc"], prefix: "bearer.")?.token == "abc")
    }

    @Test func socketIOConnectAuthPayload() {
        #expect(TokenExtraction.socketIOAuth(payload: #"{"token":"abc","x":1}"#) == "abc")
        #expect(TokenExtraction.socketIOAuth(payload: #"{"jwt":"abc"}"#, key: "jwt") == "abc")
        #expect(TokenExtraction.socketIOAuth(payload: #"{"token":42}"#) == nil)
        #expect(TokenExtraction.socketIOAuth(payload: #"{"token":""}"#) == nil)
        #expect(TokenExtraction.socketIOAuth(payload: #"["token","abc"]"#) == nil)
        #expect(TokenExtraction.socketIOAuth(payload: "{") == nil)
    }
}
