import PortcullisBus
import Testing

@testable import PortcullisEdge

/// `POST /_broadcast` in AnyCable's HTTP broadcaster format: a publication becomes the
/// stream broadcast `RoomsContext.broadcast(toRoom:)` writes for ActionCable.
@Suite struct AnyCableBroadcastTests {
    private func broadcasts(_ body: String) throws -> [Envelope] {
        try publishReader().broadcasts(Array(body.utf8))
    }

    private func error(_ body: String) -> String? {
        refusal { () throws(PublishError) in try publishReader().broadcasts(Array(body.utf8)) }?.message
    }

    @Test func aPublicationIsAnEmitToItsStreamWithoutNamespaceOrEvent() throws {
        let envelopes = try broadcasts(#"{"stream":"chat:lobby","data":"{\"body\":\"hi\",\"user\":null}"}"#)
        #expect(
            envelopes == [
                Envelope(
                    id: "id-1", kind: .emit, target: .room("chat:lobby"), data: .json(#"{"body":"hi","user":null}"#),
                    timestamp: 1_700_000_000_000)
            ])
    }

    @Test func anArrayOfPublicationsAndExcludeSocket() throws {
        let envelopes = try broadcasts(
            #"[{"stream":"a","data":"1"},{"stream":"b","data":"[true]","meta":{"exclude_socket":"edge-1.x9","other":1}}]"#
        )
        #expect(envelopes.map(\.target) == [.room("a"), .room("b")])
        #expect(envelopes.map(\.data) == [.json("1"), .json("[true]")])
        #expect(envelopes.map(\.except) == [nil, "edge-1.x9"])
        #expect(envelopes.allSatisfy { $0.namespace == nil && $0.event == nil && $0.app == nil })
    }

    @Test func dataThatIsNotJSONIsDeliveredAsAStringAsAnyCableDoes() throws {
        #expect(try broadcasts(#"{"stream":"s","data":"plain text"}"#).first?.data == .json(#""plain text""#))
        #expect(try broadcasts(#"{"stream":"s","data":"null"}"#).first?.data == .json(#""null""#))
        #expect(try broadcasts(#"{"stream":"s","data":"say \"hi\""}"#).first?.data == .json(#""say \"hi\"""#))
    }

    @Test func malformedPublicationsAreRefused() {
        #expect(error(#"{"data":"1"}"#) == "publications[0].stream: required")
        #expect(error(#"{"stream":"s"}"#) == "publications[0].data: required")
        #expect(
            error(#"[{"stream":"s","data":"1"},{"stream":"s","data":{"a":1}}]"#)
                == "publications[1].data: expected a string (the payload, usually JSON text), got an object")
        #expect(
            error(#"{"stream":"s","data":"1","meta":"{}"}"#)
                == "publications[0].meta: expected a JSON object, got a string")
        #expect(error(#"{"stream":"","data":"1"}"#) == "publications[0].stream: must not be empty")
    }
}
