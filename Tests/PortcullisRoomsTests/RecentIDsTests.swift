import Testing

@testable import PortcullisRooms

@Suite struct RecentIDsTests {
    @Test func forgetsTheOldestWhenFull() {
        var recent = RecentIDs(capacity: 3)
        for id in ["a", "b", "c", "a"] {
            recent.insert(id)
        }
        #expect(recent.count == 3)
        recent.insert("d")
        #expect(!recent.contains("a"))
        #expect(recent.contains("b") && recent.contains("c") && recent.contains("d"))
        recent.insert("e")
        #expect(!recent.contains("b"))
        #expect(recent.count == 3)
    }
}

@Suite struct EchoAppTests {
    @Test(
        arguments: [
            (#"{"room":"lobby"}"#, "lobby"),
            (#"[{"room":"lobby"},1]"#, "lobby"),
            (#"["lobby"]"#, nil),
            (#"{"room":""}"#, nil),
            ("not json", nil),
        ] as [(String, String?)])
    func roomFromData(json: String, room: String?) async throws {
        let envelope = HandlerHarness.inbound(.message, app: "echo", event: "join", data: json)
        let found = try await HandlerHarness.withContext(envelope) { EchoApp.room(in: RoomsMessage(context: $0)) }
        #expect(found == room)
    }
}
