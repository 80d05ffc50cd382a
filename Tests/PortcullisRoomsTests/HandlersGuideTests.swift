import PortcullisRooms
import Testing

// The app and the test that docs/handlers.md ("Writing a Swift app") walks through, kept
// here so that the guide's code compiles and passes. Change both together.

struct Post: Codable, Sendable {
    var room: String
    var text: String
}

struct Said: Codable, Sendable, Hashable {
    var user: String
    var text: String
}

struct LobbyApp: RoomsApp {
    let name = "lobby"

    var handlers: RoomsHandlers {
        RoomsHandlers { app in
            app.namespace("/") { lobby in
                lobby.on("enter") { socket, message in
                    let room = try message.argument(0, as: String.self)
                    socket.join(room)
                    let history = socket.context.store.list(Said.self, "history", room)
                    try message.ack(try await history.last(20))
                }
                lobby.on("post") { socket, message in
                    let post = try message.argument(0, as: Post.self)
                    let said = Said(user: socket.user ?? "anonymous", text: post.text)
                    try await socket.context.store.list(Said.self, "history", post.room).append(said, keepLast: 100)
                    try socket.context.to(.room(post.room)).emit("said", said)
                }
            }
        }
    }
}

@Suite struct LobbyAppTests {
    @Test func postsReachTheRoomAndLateComersGetTheHistory() async throws {
        let bus = InMemoryBus(app: LobbyApp())
        let alice = await bus.connect(user: "alice")
        let bob = await bus.connect(user: "bob")
        try await alice.join()
        try await bob.join()
        #expect(try await alice.emit("enter", "kitchen", ack: true) == [[]])

        try await alice.emit("post", ["room": "kitchen", "text": "tea?"])
        #expect(await alice.received("said").map(\.data) == [["user": "alice", "text": "tea?"]])
        #expect(await bob.received("said").isEmpty)

        let history = try await bob.emit("enter", "kitchen", ack: true)
        #expect(history == [[["user": "alice", "text": "tea?"]]])
    }
}
