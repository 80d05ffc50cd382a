import PortcullisWire
import Testing

@Suite struct ActionCableSubprotocolTests {
    @Test func railsClientsOfferGetsV1JSON() {
        #expect(
            ActionCableSubprotocol.chosen(offered: ["actioncable-v1-json, actioncable-unsupported"])
                == "actioncable-v1-json")
    }

    @Test func offerSplitOverHeaderLinesAndPaddedWithTabsIsFound() {
        #expect(
            ActionCableSubprotocol.chosen(offered: ["access_token.abc", "chat,\tactioncable-v1-json\t"])
                == "actioncable-v1-json")
    }

    @Test func clientOfferingNothingGetsNoHeaderAndStillConnects() {
        #expect(ActionCableSubprotocol.chosen(offered: []) == nil)
        #expect(ActionCableSubprotocol.chosen(offered: [""]) == nil)
    }

    @Test(arguments: [
        "actioncable-unsupported", "actioncable-v1-ext-json", "ActionCable-v1-JSON", "actioncable-v1-jsonx",
    ])
    func otherProtocolsAreNotChosen(_ offered: String) {
        #expect(ActionCableSubprotocol.chosen(offered: [offered]) == nil)
    }

    @Test func anyCableClientOfferingBothGetsPlainV1JSON() {
        #expect(
            ActionCableSubprotocol.chosen(offered: ["actioncable-v1-ext-json, actioncable-v1-json"])
                == ActionCableSubprotocol.json)
    }
}
