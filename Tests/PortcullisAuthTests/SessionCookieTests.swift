import Testing

@testable import PortcullisAuth

/// express-session cookie vectors from protocols.md §4.1 and from Python's hmac/base64
/// (the way `cookie-signature` computes them).
@Suite struct SessionCookieTests {
    @Test func fingerprintIsTheFirstFourBytesOfTheSHA256InHex() {
        // SHA-256("abc") = ba7816bf 8f01cfea …
        #expect(SessionCookie.fingerprint(of: "abc") == "ba7816bf")
        #expect(SessionCookie.fingerprint(of: "abd") != SessionCookie.fingerprint(of: "abc"))
    }

    let sid = "Zq3vN1bJ5xW0cTgH8mKp2LrAeYdUoSiF"
    let current = "s%3AZq3vN1bJ5xW0cTgH8mKp2LrAeYdUoSiF.smfla2PaECOTEjuvDgQs5Nb8xHFnAZWhEuiAlKOZfpE"
    let old = "s%3AZq3vN1bJ5xW0cTgH8mKp2LrAeYdUoSiF.Tr3%2F%2FFaoGwSDQS%2BX1b%2BSjpbkoW2vjNfyrso5I%2BydhPk"

    @Test func signaturesMatchTheProtocolVectors() {
        #expect(
            SessionCookie.signature(sid: sid, secret: "keyboard-cat-2024")
                == "smfla2PaECOTEjuvDgQs5Nb8xHFnAZWhEuiAlKOZfpE")
        #expect(
            SessionCookie.signature(sid: sid, secret: "old-secret") == "Tr3//FaoGwSDQS+X1b+SjpbkoW2vjNfyrso5I+ydhPk")
        #expect(SessionCookie.encodedValue(sid: sid, secret: "keyboard-cat-2024") == current)
        #expect(SessionCookie.encodedValue(sid: sid, secret: "old-secret") == old)
    }

    @Test func everySecretVerifiesSoSecretsCanRotate() {
        let secrets = ["keyboard-cat-2024", "old-secret"]
        #expect(SessionCookie.unsign(value: current, secrets: secrets) == sid)
        #expect(SessionCookie.unsign(value: old, secrets: secrets) == sid)
        #expect(SessionCookie.unsign(value: old, secrets: ["new-one", "old-secret"]) == sid)
    }

    @Test func removedSecretNoLongerVerifies() {
        #expect(SessionCookie.unsign(value: old, secrets: ["keyboard-cat-2024"]) == nil)
        #expect(SessionCookie.unsign(value: current, secrets: []) == nil)
        #expect(SessionCookie.unsign(value: current, secrets: [""]) == nil)
    }

    @Test(arguments: [
        "s%3AZq3vN1bJ5xW0cTgH8mKp2LrAeYdUoSiF.smfla2PaECOTEjuvDgQs5Nb8xHFnAZWhEuiAlKOZfpF",  // last char
        "s%3AZq3vN1bJ5xW0cTgH8mKp2LrAeYdUoSiG.smfla2PaECOTEjuvDgQs5Nb8xHFnAZWhEuiAlKOZfpE",  // sid changed
        "s%3AZq3vN1bJ5xW0cTgH8mKp2LrAeYdUoSiF.smfla2PaECOTEjuvDgQs5Nb8xHFnAZWhEuiAlKOZfpE=",  // padding
        "s%3AZq3vN1bJ5xW0cTgH8mKp2LrAeYdUoSiF.",  // empty signature
        "s%3AZq3vN1bJ5xW0cTgH8mKp2LrAeYdUoSiF",  // no signature
        "Zq3vN1bJ5xW0cTgH8mKp2LrAeYdUoSiF.smfla2PaECOTEjuvDgQs5Nb8xHFnAZWhEuiAlKOZfpE",  // unsigned (no s:)
        "", "s%3A",
    ])
    func badOrMissingSignaturesAreRejected(value: String) {
        #expect(SessionCookie.unsign(value: value, secrets: ["keyboard-cat-2024"]) == nil)
    }

    @Test func pythonComputedVectorsUnsign() {
        // hmac.new(secret.encode(), sid.encode(), sha256) → base64 → rstrip("="), quoted.
        #expect(
            SessionCookie.unsign(
                value: "s%3Asess.with.dots.brEGAYcYwydDvwivL97NFyl1mScDOARbXcgNimAmjQo", secrets: ["sécret-ünïcode"])
                == "sess.with.dots")
        #expect(
            SessionCookie.unsign(
                value: "s%3Aa%2Fb%2Bc.aQd8YZb0uLyPRH%2BLUOxDH5Qe0DiFhUUNKfSWXqU%2BaiU", secrets: ["x"]) == "a/b+c")
        // A value that is not URL-encoded (some clients) is read raw.
        #expect(
            SessionCookie.unsign(value: "s:a/b+c.aQd8YZb0uLyPRH+LUOxDH5Qe0DiFhUUNKfSWXqU+aiU", secrets: ["x"])
                == "a/b+c")
    }

    @Test func cookieHeaderFirstOccurrenceWinsAndQuotesAreStripped() {
        let header = #"theme=dark; connect.sid="s%3Aabc.sig"; connect.sid=s%3Aother.sig;  spaced = v "#
        #expect(CookieHeader.value(named: "connect.sid", in: header) == "s%3Aabc.sig")
        #expect(CookieHeader.value(named: "spaced", in: header) == "v")
        #expect(CookieHeader.value(named: "theme", in: header) == "dark")
        #expect(CookieHeader.value(named: "missing", in: header) == nil)
        #expect(CookieHeader.value(named: "connect.sid", in: ["a=b", "connect.sid=second"]) == "second")
        #expect(CookieHeader.value(named: "flag", in: "flag; x=1") == nil)
    }

    @Test func secretsFileHasOneSecretPerLineFirstSigns() throws {
        #expect(
            SessionCookie.secrets(fromFileContents: "new-secret\r\n\nold-secret\n") == ["new-secret", "old-secret"])
        let path = Fixtures.write("cookie.secrets", "new-secret\nold-secret\n")
        #expect(try SessionCookie.loadSecrets(file: path) == ["new-secret", "old-secret"])
        let empty = Fixtures.write("empty.secrets", "\n\n")
        #expect(throws: KeySetError.self) { try SessionCookie.loadSecrets(file: empty) }
    }
}
