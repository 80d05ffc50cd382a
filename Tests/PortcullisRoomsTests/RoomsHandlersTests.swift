import PortcullisBus
import Testing

@testable import PortcullisRooms

/// The handler API end to end on the in-memory bus: dispatch by namespace, event and
/// channel, what each client receives, acks, rooms, subscriptions and the cleanup of
/// per-socket data.
@Suite struct RoomsHandlersTests {
    struct Say: Codable, Sendable {
        var room: String
        var text: String
    }

    /// A chat in `/chat` and an ActionCable channel, written the way the API reads.
    struct ChatApp: RoomsApp {
        let name = "chat-test"

        var handlers: RoomsHandlers {
            RoomsHandlers { app in
                app.namespace("/chat") { chat in
                    chat.onConnect { socket in
                        guard let nick = socket.handshake?.query["nick"] else { return socket.reject("nick required") }
                        try await socket.data.set("nick", .string(nick))
                        try socket.emit("welcome", ["nick": JSON.string(nick)])
                    }
                    chat.on("join") { socket, message in
                        let room = try message.argument(0, as: String.self)
                        socket.join(room)
                        try message.ack(["joined": JSON.string(room)])
                    }
                    chat.on("say") { socket, message in
                        let say = try message.argument(0, as: Say.self)
                        let nick = try await socket.data.get("nick")
                        try socket.to(.room(say.room)).emit("said", nick ?? .null, say.text)
                    }
                    chat.on("shout") { socket, message in
                        try socket.context.to(.all).emit("shouted", try message.argument(0, as: String.self))
                    }
                    chat.on("dm") { socket, message in
                        let user = try message.argument(0, as: String.self)
                        try socket.context.to(.user(user)).emit("dm", socket.user ?? "")
                    }
                    chat.on("kick") { socket, message in
                        socket.context.to(.user(try message.argument(0, as: String.self))).disconnect(reason: "kicked")
                    }
                    chat.onDisconnect { socket, reason in
                        try await socket.context.store.list(String.self, "gone").append("\(socket.id) \(reason)")
                    }
                }
                app.channel("RoomChannel") { channel in
                    channel.onSubscribe { subscription in
                        guard let room = subscription.params["room"]?.identifier else {
                            try subscription.transmit(["dropped": true])
                            return subscription.reject("no room")
                        }
                        try subscription.transmit(["hello": JSON.string(room)])
                        subscription.stream(from: "room:\(room)")
                    }
                    channel.on("speak") { subscription, message in
                        guard let room = subscription.params["room"]?.identifier else { return }
                        try subscription.broadcast(to: "room:\(room)", ["text": try message.arguments.first?["text"]])
                    }
                }
            }
        }
    }

    @Test func connectReadsTheHandshakeAndCanReject() async throws {
        let bus = InMemoryBus(app: ChatApp())
        let alice = await bus.connect(user: "alice", query: ["nick": "Al"])
        #expect(try await alice.join("/chat"))
        #expect(await alice.received("welcome").map(\.data) == [["nick": "Al"]])
        let anonymous = await bus.connect(user: "bob")
        #expect(try await anonymous.join("/chat") == false)
        #expect(await anonymous.namespaces == [])
        // Namespaces without handlers take nothing: no welcome.
        #expect(try await alice.join("/other"))
        #expect(await alice.received("welcome").count == 1)
    }

    @Test func eventsAcksRoomsAndExcept() async throws {
        let bus = InMemoryBus(app: ChatApp())
        let alice = await bus.connect(user: "alice", query: ["nick": "Al"])
        let bob = await bus.connect(user: "bob", query: ["nick": "Bo"])
        let carol = await bus.connect(user: "carol", query: ["nick": "Ca"])
        for client in [alice, bob, carol] { try await client.join("/chat") }
        #expect(try await alice.emit("join", "lobby", namespace: "/chat", ack: true) == [["joined": "lobby"]])
        try await bob.emit("join", "lobby", namespace: "/chat")
        #expect(await bob.rooms(in: "/chat") == ["lobby"])

        try await alice.emit("say", ["room": "lobby", "text": "hi"], namespace: "/chat")
        // socket.to(room) leaves the sender out; carol is not in the room.
        #expect(await bob.received("said").map(\.arguments) == [["Al", "hi"]])
        #expect(await alice.received("said").isEmpty)
        #expect(await carol.received("said").isEmpty)

        try await carol.emit("shout", "all", namespace: "/chat")
        for client in [alice, bob, carol] {
            #expect(await client.received("shouted").map(\.data) == ["all"])
        }
        try await alice.emit("dm", "bob", namespace: "/chat")
        #expect(await bob.received("dm").map(\.data) == ["alice"])
        #expect(await carol.received("dm").isEmpty)
    }

    @Test func badInputIsDroppedWithoutOutputs() async throws {
        let bus = InMemoryBus(app: ChatApp())
        let alice = await bus.connect(user: "alice", query: ["nick": "Al"])
        try await alice.join("/chat")
        // `join` wants a string; a number is the client's error: no ack, no room.
        #expect(try await alice.emit("join", 42, namespace: "/chat", ack: true) == nil)
        #expect(await alice.rooms(in: "/chat") == [])
    }

    @Test func disconnectClosesEveryConnectionOfTheUserAndCleansUp() async throws {
        let bus = InMemoryBus(app: ChatApp())
        let bobPhone = await bus.connect(user: "bob", query: ["nick": "Bo"])
        let bobLaptop = await bus.connect(user: "bob", query: ["nick": "Bo"])
        let alice = await bus.connect(user: "alice", query: ["nick": "Al"])
        for client in [bobPhone, bobLaptop, alice] { try await client.join("/chat") }
        #expect(bus.storage.keys.filter { $0.contains(":socket:") }.count == 3)
        try await alice.emit("kick", "bob", namespace: "/chat")
        #expect(await bobPhone.isConnected == false)
        #expect(await bobLaptop.isConnected == false)
        #expect(await alice.isConnected)
        let gone = try await RoomsStore(storage: bus.storage, prefix: "portcullis", app: "chat-test")
            .list(String.self, "gone").last(10)
        #expect(gone == ["\(bobPhone.id) kicked", "\(bobLaptop.id) kicked"])
        // socket.data of the closed sockets is deleted after onDisconnect.
        #expect(bus.storage.keys.filter { $0.contains(":socket:") }.count == 1)
    }

    @Test func subscriptionsAreConfirmedBeforeTheirStreamsAndTransmits() async throws {
        let bus = InMemoryBus(app: ChatApp())
        let alice = await bus.connect(user: "alice")
        let bob = await bus.connect(user: "bob")
        let lobby = #"{"channel":"RoomChannel","room":"lobby"}"#
        #expect(try await alice.subscribe(lobby))
        #expect(try await bob.subscribe(lobby))
        // The transmit queued before the confirmation reached a live subscription.
        #expect(await alice.received(nil).map(\.data) == [["hello": "lobby"]])
        try await alice.perform("speak", data: ["text": "hey", "action": "speak"], identifier: lobby)
        for client in [alice, bob] {
            #expect(await client.received(nil, namespace: lobby).last?.data == ["text": "hey"])
        }
    }

    @Test func rejectedSubscriptionsAndUnknownChannelsGetNothing() async throws {
        let bus = InMemoryBus(app: ChatApp())
        let alice = await bus.connect(user: "alice")
        #expect(try await alice.subscribe(#"{"channel":"RoomChannel"}"#) == false)
        #expect(try await alice.subscribe(#"{"channel":"Nope","room":"x"}"#) == false)
        #expect(await alice.deliveries.isEmpty)
        #expect(await alice.namespaces == [])
    }

    @Test func outputsOfARejectedSubscriptionAreDropped() async throws {
        let context = try await HandlerHarness.withContext(
            HandlerHarness.inbound(.open, app: "chat-test", namespace: #"{"channel":"RoomChannel"}"#)
        ) { context in
            try await ChatApp().handlers.handle(context.envelope, context: context)
            return context
        }
        #expect(context.outputs.map(\.envelope.kind) == [.reject])
        #expect(context.outputs.first?.envelope.reason == "no room")
    }

    @Test func backendsPublishToUsersAndRooms() async throws {
        let bus = InMemoryBus(app: ChatApp())
        let alice = await bus.connect(user: "alice", query: ["nick": "Al"])
        try await alice.join("/chat")
        try await alice.emit("join", "lobby", namespace: "/chat")
        try await bus.publish(
            Envelope(
                id: "p1", kind: .emit, namespace: "/chat", target: .room("lobby"), event: "news",
                data: .json(#"{"n":1}"#)))
        try await bus.publish(
            Envelope(id: "p2", kind: .emit, namespace: "/chat", target: .user("alice"), event: "note"))
        #expect(await alice.received("news").map(\.data) == [["n": 1]])
        #expect(await alice.received("note").count == 1)
    }
}

@Suite struct JSONTests {
    @Test func parsesAndEncodesEveryKind() throws {
        let value = try #require(JSON(parsing: #"{"a":[1,2.5,"x",true,null],"b":{"c":-3}}"#))
        #expect(value["a"]?[0] == 1)
        #expect(value["a"]?[1] == .double(2.5))
        #expect(value["b"]?["c"]?.int == -3)
        #expect(value.text == #"{"a":[1,2.5,"x",true,null],"b":{"c":-3}}"#)
        #expect(JSON(parsing: "not json") == nil)
        #expect(JSON(parsing: "7") == 7)
    }

    @Test func identifiersAcceptStringsAndIntegers() {
        #expect(JSON.string("42").identifier == "42")
        #expect(JSON.int(42).identifier == "42")
        #expect(JSON.string("").identifier == nil)
        #expect(JSON.double(1.5).identifier == nil)
        #expect(JSON.bool(true).identifier == nil)
    }

    @Test func slashesAreNotEscaped() throws {
        #expect(try JSON(encoding: ["url": "https://x/y"]).text == #"{"url":"https://x/y"}"#)
    }
}
