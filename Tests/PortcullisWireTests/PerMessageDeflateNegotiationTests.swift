import PortcullisWire
import Testing

/// RFC 7692 §5–§7 negotiation: which offer is accepted and what the 101 answers.
@Suite struct PerMessageDeflateNegotiationTests {
    static let defaults = PerMessageDeflate.Policy()

    static func negotiate(_ offers: String..., policy: PerMessageDeflate.Policy = defaults) -> PerMessageDeflate? {
        PerMessageDeflate.negotiate(offers: offers, policy: policy)
    }

    @Test func plainOfferIsAcceptedWithBothSidesResettingTheirContext() throws {
        let agreed = try #require(Self.negotiate("permessage-deflate"))
        #expect(
            agreed.responseHeaderValue == "permessage-deflate; server_no_context_takeover; client_no_context_takeover")
        #expect(agreed.serverMaxWindowBits == 15 && agreed.clientMaxWindowBits == 15)
        #expect(agreed.serverNoContextTakeover && agreed.clientNoContextTakeover)
    }

    @Test func browserOfferWithBareClientMaxWindowBitsIsAcceptedWithoutEchoingIt() throws {
        let agreed = try #require(Self.negotiate("permessage-deflate; client_max_window_bits"))
        #expect(!agreed.responseHeaderValue.contains("client_max_window_bits"))
        #expect(agreed.clientMaxWindowBits == 15)
    }

    @Test func clientMaxWindowBitsIsLimitedByThePolicyWhenTheClientCanLimit() throws {
        let policy = PerMessageDeflate.Policy(clientMaxWindowBits: 10)
        let agreed = try #require(Self.negotiate("permessage-deflate; client_max_window_bits", policy: policy))
        #expect(agreed.clientMaxWindowBits == 10)
        #expect(agreed.responseHeaderValue.hasSuffix("; client_max_window_bits=10"))
        let smaller = try #require(Self.negotiate("permessage-deflate; client_max_window_bits=9", policy: policy))
        #expect(smaller.clientMaxWindowBits == 9)
        #expect(smaller.responseHeaderValue.hasSuffix("; client_max_window_bits=9"))
    }

    @Test func clientThatCannotLimitItsWindowIsDeclinedWhenThePolicyLimitsIt() {
        #expect(Self.negotiate("permessage-deflate", policy: .init(clientMaxWindowBits: 12)) == nil)
    }

    @Test func serverMaxWindowBitsRequestIsHonouredAndAnswered() throws {
        let agreed = try #require(Self.negotiate("permessage-deflate; server_max_window_bits=10"))
        #expect(agreed.serverMaxWindowBits == 10)
        #expect(agreed.responseHeaderValue.contains("server_max_window_bits=10"))
        let policy = PerMessageDeflate.Policy(serverMaxWindowBits: 12)
        let capped = try #require(Self.negotiate("permessage-deflate; server_max_window_bits=14", policy: policy))
        #expect(capped.serverMaxWindowBits == 12)
        #expect(capped.responseHeaderValue.contains("server_max_window_bits=12"))
        // Not requested: the server uses its smaller window without saying so (§7.1.2.1).
        let silent = try #require(Self.negotiate("permessage-deflate", policy: policy))
        #expect(silent.serverMaxWindowBits == 12 && !silent.responseHeaderValue.contains("server_max"))
    }

    @Test func serverMaxWindowBitsOf8IsDeclinedAndTheNextOfferTaken() throws {
        #expect(Self.negotiate("permessage-deflate; server_max_window_bits=8") == nil)
        let agreed = try #require(
            Self.negotiate("permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9")
        )
        #expect(agreed.serverMaxWindowBits == 9)
    }

    @Test func quotedValuesAreUnquoted() throws {
        let agreed = try #require(
            Self.negotiate(#"permessage-deflate; client_max_window_bits="10""#, policy: .init(clientMaxWindowBits: 12)))
        #expect(agreed.clientMaxWindowBits == 10)
    }

    @Test func contextTakeoverRequestsAreHonoured() throws {
        let policy = PerMessageDeflate.Policy(serverNoContextTakeover: false, clientNoContextTakeover: false)
        let keep = try #require(Self.negotiate("permessage-deflate", policy: policy))
        #expect(keep.responseHeaderValue == "permessage-deflate" && !keep.serverNoContextTakeover)
        let reset = try #require(
            Self.negotiate("permessage-deflate; server_no_context_takeover; client_no_context_takeover", policy: policy)
        )
        #expect(reset.serverNoContextTakeover && reset.clientNoContextTakeover)
        #expect(
            reset.responseHeaderValue == "permessage-deflate; server_no_context_takeover; client_no_context_takeover")
        let asked = try #require(Self.negotiate("permessage-deflate", policy: .init(clientNoContextTakeover: true)))
        #expect(asked.clientNoContextTakeover && asked.responseHeaderValue.contains("client_no_context_takeover"))
    }

    @Test(arguments: [
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits=10; client_max_window_bits=11",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; mystery",
        #"permessage-deflate; client_max_window_bits="1"0"#,
        "permessage-deflate;;",
    ])
    func malformedOfferIsDeclined(_ offer: String) {
        #expect(Self.negotiate(offer) == nil)
    }

    @Test func firstAcceptableOfferWinsAcrossHeadersAndOtherExtensionsAreIgnored() throws {
        let agreed = try #require(
            Self.negotiate(
                "x-webkit-deflate-frame, permessage-deflate; mystery",
                "permessage-deflate; client_max_window_bits; server_max_window_bits=11, permessage-deflate"))
        #expect(agreed.serverMaxWindowBits == 11)
    }

    @Test func extensionNameAndParametersAreCaseInsensitive() throws {
        let agreed = try #require(Self.negotiate("PerMessage-Deflate; Server_No_Context_Takeover"))
        #expect(agreed.serverNoContextTakeover)
    }

    @Test func noOfferMeansNoExtension() {
        #expect(PerMessageDeflate.negotiate(offers: [], policy: Self.defaults) == nil)
        #expect(Self.negotiate("x-webkit-deflate-frame") == nil)
    }
}
