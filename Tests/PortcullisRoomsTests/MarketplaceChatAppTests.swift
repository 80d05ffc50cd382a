import PortcullisBus
import Testing

@testable import PortcullisRooms

/// The marketplace chat on the in-memory bus: the handshake checks, presence, every client
/// event and its refusals, and what is left in the store. No Redis.
@Suite struct MarketplaceChatAppTests {
    static let namespace = MarketplaceChatApp.namespace
    static let prefix = "portcullis:app:marketplace-chat:"

    /// A bus with the app, and clients connected the way the product's client connects.
    struct Chat {
        var bus = InMemoryBus(app: MarketplaceChatApp())

        /// A client whose token's subject is `subject` (default `user`), with the query the
        /// product's client sends, joined to the chat namespace (or refused: `joined`).
        func connect(
            _ user: String, _ role: String, subject: String? = nil, expectJoined: Bool = true
        ) async throws -> InMemoryBus.Client {
            let client = await self.bus.connect(
                user: subject ?? user, claims: ["sub": .string(subject ?? user)],
                query: ["token": "t", "user_id": user, "user_role": role])
            let joined = try await client.join(MarketplaceChatAppTests.namespace)
            #expect(joined == expectJoined)
            return client
        }

        func store() -> RoomsStore {
            RoomsStore(storage: self.bus.storage, prefix: StreamNames.defaultPrefix, app: "marketplace-chat")
        }

        /// Buyer `b1` and seller `s1` connected, with room `b1.s1` created by the buyer.
        func withRoom() async throws -> (buyer: InMemoryBus.Client, seller: InMemoryBus.Client) {
            let buyer = try await self.connect("b1", "BUYER")
            let seller = try await self.connect("s1", "SELLER")
            try await buyer.emit("create_room", Self.createRoom(), namespace: MarketplaceChatAppTests.namespace)
            return (buyer, seller)
        }

        static func createRoom(
            buyer: String = "b1", seller: String = "s1", creator: String = "b1", shop: JSON = 7
        ) -> JSON {
            [
                "type": "BS", "buyer": .string(buyer), "seller": .string(seller), "shop_id": shop,
                "creator": .string(creator),
            ]
        }

        static func message(
            from: String = "b1", to: String = "s1", content: JSON = "hello", clientID: JSON? = nil,
            room: String = "b1.s1"
        ) -> JSON {
            var fields: [String: JSON] = [
                "room_id": .string(room), "from": .string(from), "to": .string(to), "type": "TEXT", "content": content,
            ]
            fields["client_message_id"] = clientID
            return .object(fields)
        }
    }

    @discardableResult
    static func emit(
        _ client: InMemoryBus.Client, _ event: String, _ data: JSON, ack: Bool = false
    ) async throws -> [JSON]? {
        try await client.emit(event, data, namespace: Self.namespace, ack: ack)
    }

    static func errors(_ client: InMemoryBus.Client) async -> [JSON] {
        await client.received("error").compactMap(\.data)
    }

    // MARK: Handshake

    @Test func aBuyerWhoseTokenIsTheirsGetsAnEmptyActiveUserList() async throws {
        let chat = Chat()
        let buyer = try await chat.connect("b1", "BUYER")
        #expect(
            await buyer.received("active_user_list").map(\.data) == [
                ["user_id": "b1", "user_role": "BUYER", "rooms": []]
            ])
        #expect(try await chat.store().set("user", "b1", "BUYER", "sockets").members() == [buyer.id])
        #expect(await buyer.rooms(in: Self.namespace) == ["party:BUYER:b1"])
    }

    @Test(arguments: [
        ("b1", "BUYER", "someone-else"),  // the token is another user's
        ("b1", "ADMIN", "b1"),  // not a role of the product
        ("b1", "buyer", "b1"),  // roles are upper case
        ("b1", "", "b1"),
        ("", "BUYER", ""),  // no user_id
        ("b.1", "BUYER", "b.1"),  // a dot would make room ids ambiguous
    ])
    func theHandshakeIsRefusedUnlessTheTokenIsTheUsersAndTheRoleIsBuyerOrSeller(
        user: String, role: String, subject: String
    ) async throws {
        let chat = Chat()
        let client = try await chat.connect(user, role, subject: subject, expectJoined: false)
        #expect(await client.namespaces == [])
        #expect(await client.received("active_user_list").isEmpty)
        // Nothing kept: no socket data, no presence.
        #expect(chat.bus.storage.keys == [])
    }

    @Test func anAnonymousConnectionIsRefused() async throws {
        let chat = Chat()
        let client = await chat.bus.connect(user: nil, query: ["user_id": "b1", "user_role": "BUYER"])
        #expect(try await client.join(Self.namespace) == false)
    }

    // MARK: Rooms

    @Test func createRoomStoresTheRoomJoinsBothPartiesAndTellsBoth() async throws {
        let chat = Chat()
        let buyer = try await chat.connect("b1", "BUYER")
        let buyerPhone = try await chat.connect("b1", "BUYER")
        let seller = try await chat.connect("s1", "SELLER")
        let answer = try await Self.emit(buyer, "create_room", Chat.createRoom(), ack: true)

        let room: JSON = [
            "room_id": "b1.s1", "type": "BS", "buyer": "b1", "seller": "s1", "shop_id": 7, "creator": "b1",
        ]
        #expect(answer == [room])
        for client in [buyer, buyerPhone, seller] {
            #expect(await client.received("create_room").map(\.data) == [room])
            #expect(await client.rooms(in: Self.namespace).contains("b1.s1"))
        }
        let store = chat.store()
        #expect(try await store.value(JSON.self, "room", "b1.s1").get()?["creator"] == "b1")
        #expect(try await store.set("user", "b1", "BUYER", "rooms").members() == ["b1.s1"])
        #expect(try await store.set("user", "s1", "SELLER", "rooms").members() == ["b1.s1"])
    }

    @Test func createRoomIsIdempotentAndTheFirstRoomStands() async throws {
        let chat = Chat()
        let (buyer, seller) = try await chat.withRoom()
        // The seller creates the same pair with another shop: the stored room comes back.
        let again = try await Self.emit(
            seller, "create_room", Chat.createRoom(creator: "s1", shop: "other-shop"), ack: true)
        #expect(again?.first?["creator"] == "b1")
        #expect(again?.first?["shop_id"] == 7)
        #expect(try await Self.emit(buyer, "create_room", Chat.createRoom(), ack: true)?.first?["room_id"] == "b1.s1")
        #expect(try await chat.store().set("user", "b1", "BUYER", "rooms").members() == ["b1.s1"])
        #expect(try await chat.store().set("user", "s1", "SELLER", "rooms").members() == ["b1.s1"])
        #expect(chat.bus.storage.keys.filter { $0.hasPrefix(Self.prefix + "room:") } == [Self.prefix + "room:b1.s1"])
    }

    @Test(
        arguments: [
            (Chat.createRoom(creator: "s1"), "forbidden"),  // creator is not the connected user
            (Chat.createRoom(buyer: "b2", creator: "b1"), "forbidden"),  // a room of another buyer
            (Chat.createRoom(buyer: "s1", seller: "b1", creator: "b1"), "forbidden"),  // the buyer as seller
            (Chat.createRoom(buyer: "b1", seller: "b1"), "invalid_payload"),
            (["type": "BB", "buyer": "b1", "seller": "s1", "shop_id": 7, "creator": "b1"], "invalid_payload"),
            (["type": "BS", "buyer": "b1", "seller": "s1", "creator": "b1"], "invalid_payload"),  // no shop_id
            (["type": "BS", "buyer": "b1", "seller": "s.1", "shop_id": 7, "creator": "b1"], "invalid_payload"),
            ("not an object", "invalid_payload"),
        ] as [(JSON, String)])
    func createRoomIsRefusedWithAnErrorEventAndNothingStored(data: JSON, code: String) async throws {
        let chat = Chat()
        let buyer = try await chat.connect("b1", "BUYER")
        let answer = try await Self.emit(buyer, "create_room", data, ack: true)
        #expect(answer?.first?["error"]?["code"] == .string(code))
        let errors = await Self.errors(buyer)
        #expect(errors.count == 1)
        #expect(errors.first?["event"] == "create_room")
        #expect(errors.first?["code"] == .string(code))
        #expect(await buyer.received("create_room").isEmpty)
        #expect(!chat.bus.storage.keys.contains { $0.hasPrefix(Self.prefix + "room:") })
    }

    @Test func aSellerCreatesRoomsAsTheSeller() async throws {
        let chat = Chat()
        let seller = try await chat.connect("s1", "SELLER")
        let answer = try await Self.emit(seller, "create_room", Chat.createRoom(creator: "s1"), ack: true)
        #expect(answer?.first?["room_id"] == "b1.s1")
        // The buyer was offline: the room is in its set for its next connect.
        let buyer = try await chat.connect("b1", "BUYER")
        #expect(
            await buyer.received("active_user_list").first?.data?["rooms"] == [["room_id": "b1.s1", "status": true]])
        #expect(await buyer.rooms(in: Self.namespace).contains("b1.s1"))
    }

    @Test func roomDeletionTellsBothAndHidesTheRoomFromTheDeleterUntilANewMessage() async throws {
        let chat = Chat()
        let (buyer, seller) = try await chat.withRoom()
        let answer = try await Self.emit(seller, "room_deletion", ["room_id": "b1.s1"], ack: true)
        let deletion: JSON = ["room_id": "b1.s1", "seller": "s1", "buyer": "b1", "deletion_role": "SELLER"]
        #expect(answer == [deletion])
        for client in [buyer, seller] {
            #expect(await client.received("room_deletion").map(\.data) == [deletion])
        }
        let marks = try await chat.store().hash(JSON.self, "room", "b1.s1", "deleted").all()
        #expect(marks["SELLER"]?["user_id"] == "s1")
        #expect(marks["BUYER"] == nil)

        // The seller's next connect does not list it; the buyer's does.
        let sellerTablet = try await chat.connect("s1", "SELLER")
        #expect(await sellerTablet.received("active_user_list").first?.data?["rooms"] == [])
        let buyerPhone = try await chat.connect("b1", "BUYER")
        #expect(await buyerPhone.received("active_user_list").first?.data?["rooms"]?[0]?["room_id"] == "b1.s1")

        // A new message brings it back for the seller, who still receives it live.
        try await Self.emit(buyer, "new_message", Chat.message())
        #expect(await seller.received("new_message").count == 1)
        #expect(try await chat.store().hash(JSON.self, "room", "b1.s1", "deleted").all().isEmpty)
        let sellerLaptop = try await chat.connect("s1", "SELLER")
        #expect(await sellerLaptop.received("active_user_list").first?.data?["rooms"]?[0]?["room_id"] == "b1.s1")
    }

    @Test func createRoomShowsADeletedRoomToItsCreatorAgain() async throws {
        let chat = Chat()
        let (buyer, _) = try await chat.withRoom()
        try await Self.emit(buyer, "room_deletion", ["room_id": "b1.s1"])
        try await Self.emit(buyer, "create_room", Chat.createRoom())
        let phone = try await chat.connect("b1", "BUYER")
        #expect(await phone.received("active_user_list").first?.data?["rooms"]?[0]?["room_id"] == "b1.s1")
    }

    // MARK: Messages

    @Test func aMessageIsStoredWithServerIDAndTimeAndReachesEverySocketOfBothParties() async throws {
        let chat = Chat()
        let (buyer, seller) = try await chat.withRoom()
        let buyerPhone = try await chat.connect("b1", "BUYER")
        let answer = try await Self.emit(buyer, "new_message", Chat.message(clientID: "c-1"), ack: true)
        let message = try #require(answer?.first)

        let id = try #require(message["_id"]?.string)
        #expect(id.count == 24 && id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        // The first 4 bytes are the creation second (the bus clock starts at 1_700_000_000 s).
        #expect(UInt32(id.prefix(8), radix: 16) == 1_700_000_000)
        let createdAt = try #require(message["created_at"]?.string)
        #expect(createdAt.hasPrefix("2023-11-14T22:13:20.") && createdAt.hasSuffix("Z") && createdAt.count == 24)
        #expect(message["room_id"] == "b1.s1" && message["from"] == "b1" && message["to"] == "s1")
        #expect(message["type"] == "TEXT" && message["content"] == "hello" && message["client_message_id"] == "c-1")

        for client in [buyer, buyerPhone, seller] {
            #expect(await client.received("new_message").map(\.data) == [message])
        }
        let history = try await chat.store().list(JSON.self, "room", "b1.s1", "messages").last(10)
        #expect(history == [message])
    }

    @Test func aMessageWithoutClientIDHasNoneAndAnyContentIsKept() async throws {
        let chat = Chat()
        let (buyer, seller) = try await chat.withRoom()
        let image: JSON = ["url": "https://cdn.example/1.png", "w": 10]
        var data = Chat.message(from: "s1", to: "b1", content: image)
        data = .object((data.object ?? [:]).merging(["type": "IMAGE"]) { $1 })
        try await Self.emit(seller, "new_message", data)
        let received = try #require(await buyer.received("new_message").first?.data)
        #expect(received["client_message_id"] == nil)
        #expect(received["content"] == image && received["type"] == "IMAGE" && received["from"] == "s1")
    }

    @Test func aRepeatedClientMessageIDIsStoredOnceAndTheOriginalGoesBackToTheSender() async throws {
        let chat = Chat()
        let (buyer, seller) = try await chat.withRoom()
        let first = try await Self.emit(buyer, "new_message", Chat.message(clientID: 99), ack: true)
        let second = try await Self.emit(
            buyer, "new_message", Chat.message(content: "changed", clientID: 99), ack: true)
        #expect(first == second)
        #expect(first?.first?["client_message_id"] == 99)
        #expect(await buyer.received("new_message").map(\.data) == [first?.first, first?.first])
        #expect(await seller.received("new_message").count == 1)
        #expect(try await chat.store().list(JSON.self, "room", "b1.s1", "messages").last(10).count == 1)
        // The same id in another room is another message.
        let otherSeller = try await chat.connect("s2", "SELLER")
        try await Self.emit(buyer, "create_room", Chat.createRoom(seller: "s2"))
        try await Self.emit(buyer, "new_message", Chat.message(to: "s2", clientID: 99, room: "b1.s2"))
        #expect(await otherSeller.received("new_message").count == 1)
    }

    @Test func aRedeliveredEnvelopeIsStoredOnceAndSentToBothPartiesAgain() async throws {
        let storage = MemoryRoomsStorage()
        let chat = Chat(bus: InMemoryBus(app: MarketplaceChatApp(), storage: storage))
        let (buyer, _) = try await chat.withRoom()
        // The same envelope twice, as the worker redelivers one whose outputs were not written.
        let envelope = HandlerHarness.inbound(
            .message, app: "marketplace-chat", connection: buyer.id, user: "b1", namespace: Self.namespace,
            event: "new_message", data: JSON.array([Chat.message()]).text, arguments: true)
        var sent: [[Envelope]] = []
        for _ in 0..<2 {
            let outputs = try await HandlerHarness.withContext(envelope, app: "marketplace-chat", storage: storage) {
                context in
                try await MarketplaceChatApp().handlers.handle(envelope, context: context)
                return context.outputs.map(\.envelope)
            }
            sent.append(outputs)
        }
        for outputs in sent {
            #expect(outputs.map(\.kind) == [.emit])
            #expect(outputs.first?.target == .room("b1.s1"))
        }
        #expect(sent[0].first?.data == sent[1].first?.data)
        #expect(try await chat.store().list(JSON.self, "room", "b1.s1", "messages").last(10).count == 1)
    }

    @Test func theHistoryKeepsTheLatestMessages() async throws {
        let chat = Chat()
        let (buyer, _) = try await chat.withRoom()
        let limit = MarketplaceChatApp.historyLimit
        for n in 0..<(limit + 5) {
            try await Self.emit(buyer, "new_message", Chat.message(content: .int(n)))
        }
        let history = try await chat.store().list(JSON.self, "room", "b1.s1", "messages").last(limit + 5)
        #expect(history.count == limit)
        #expect(history.first?["content"] == 5)
        #expect(history.last?["content"] == .int(limit + 4))
    }

    @Test(
        arguments: [
            (Chat.message(from: "s1"), "forbidden"),  // from is not the sender
            (Chat.message(to: "b1"), "forbidden"),  // to is not the other party
            (Chat.message(to: "s9"), "forbidden"),
            (Chat.message(room: "b9.s1"), "room_not_found"),
            (Chat.message(clientID: ["no": "objects"]), "invalid_payload"),
            (["room_id": "b1.s1", "from": "b1", "to": "s1", "type": "VIDEO", "content": "x"], "invalid_payload"),
            (["room_id": "b1.s1", "from": "b1", "to": "s1", "type": "TEXT"], "invalid_payload"),  // no content
            (["from": "b1", "to": "s1", "type": "TEXT", "content": "x"], "invalid_payload"),  // no room
        ] as [(JSON, String)])
    func aBadMessageIsRefusedAndNeitherStoredNorSent(data: JSON, code: String) async throws {
        let chat = Chat()
        let (buyer, seller) = try await chat.withRoom()
        let answer = try await Self.emit(buyer, "new_message", data, ack: true)
        #expect(answer?.first?["error"]?["code"] == .string(code))
        #expect(await Self.errors(buyer).map { $0["code"] } == [.string(code)])
        #expect(await seller.received("new_message").isEmpty)
        #expect(await seller.received("error").isEmpty)
        #expect(try await chat.store().list(JSON.self, "room", "b1.s1", "messages").last(10).isEmpty)
    }

    @Test func someoneElsesRoomIsRefusedForEveryEvent() async throws {
        let chat = Chat()
        let (_, seller) = try await chat.withRoom()
        // b2 guesses the room id; s1 connected as BUYER is not the room's seller side.
        let intruder = try await chat.connect("b2", "BUYER")
        let sellerAsBuyer = try await chat.connect("s1", "BUYER")
        let events: [(String, JSON)] = [
            ("new_message", Chat.message(from: "b2")),
            ("typing", ["room_id": "b1.s1", "from": "b2", "to": "s1"]),
            ("stop_typing", ["room_id": "b1.s1", "from": "b2", "to": "s1"]),
            (
                "seen_messages",
                ["room_id": "b1.s1", "from": "b2", "to": "s1", "last_message_id": "x", "last_message_created_at": "y"]
            ),
            ("room_deletion", ["room_id": "b1.s1"]),
        ]
        for (event, data) in events {
            for client in [intruder, sellerAsBuyer] {
                let answer = try await Self.emit(client, event, data, ack: true)
                #expect(answer?.first?["error"]?["code"] == "forbidden", "\(event)")
            }
        }
        #expect(await Self.errors(intruder).map { $0["event"] } == events.map { .string($0.0) })
        for event in ["new_message", "typing", "stop_typing", "seen_messages", "room_deletion"] {
            #expect(await seller.received(event).isEmpty, "\(event)")
        }
        #expect(try await chat.store().hash(JSON.self, "room", "b1.s1", "deleted").all().isEmpty)
    }

    // MARK: Typing and read markers

    @Test func typingAndStopTypingReachOnlyTheOtherParty() async throws {
        let chat = Chat()
        let (buyer, seller) = try await chat.withRoom()
        let buyerPhone = try await chat.connect("b1", "BUYER")
        let sellerPhone = try await chat.connect("s1", "SELLER")
        let payload: JSON = ["room_id": "b1.s1", "from": "b1", "to": "s1"]
        #expect(try await Self.emit(buyer, "typing", payload, ack: true) == [payload])
        try await Self.emit(buyer, "stop_typing", payload)
        for client in [seller, sellerPhone] {
            #expect(await client.received("typing").map(\.data) == [payload])
            #expect(await client.received("stop_typing").map(\.data) == [payload])
        }
        for client in [buyer, buyerPhone] {
            #expect(await client.received("typing").isEmpty)
            #expect(await client.received("stop_typing").isEmpty)
        }
        // Typing into the wrong direction is refused.
        let answer = try await Self.emit(seller, "typing", payload, ack: true)
        #expect(answer?.first?["error"]?["code"] == "forbidden")
    }

    @Test func seenMessagesIsRelayedToTheOtherPartyAndKeptAsTheReadMarker() async throws {
        let chat = Chat()
        let (buyer, seller) = try await chat.withRoom()
        let sent = try #require(try await Self.emit(buyer, "new_message", Chat.message(), ack: true)?.first)
        let seen: JSON = [
            "room_id": "b1.s1", "from": "s1", "to": "b1", "last_message_id": sent["_id"] ?? nil,
            "last_message_created_at": sent["created_at"] ?? nil,
        ]
        #expect(try await Self.emit(seller, "seen_messages", seen, ack: true) == [seen])
        #expect(await buyer.received("seen_messages").map(\.data) == [seen])
        #expect(await seller.received("seen_messages").isEmpty)
        let markers = try await chat.store().hash(JSON.self, "room", "b1.s1", "seen").all()
        #expect(markers == ["s1": seen])
        var missing = seen.object ?? [:]
        missing["last_message_id"] = nil
        let answer = try await Self.emit(seller, "seen_messages", .object(missing), ack: true)
        #expect(answer?.first?["error"]?["code"] == "invalid_payload")
    }

    // MARK: Presence

    @Test func activeUserListTellsWhetherTheOtherPartyOfEachRoomIsOnline() async throws {
        let chat = Chat()
        let (_, seller) = try await chat.withRoom()
        let buyerPhone = try await chat.connect("b1", "BUYER")
        #expect(
            await buyerPhone.received("active_user_list").map(\.data) == [
                ["user_id": "b1", "user_role": "BUYER", "rooms": [["room_id": "b1.s1", "status": true]]]
            ])
        try await seller.close()
        let buyerTablet = try await chat.connect("b1", "BUYER")
        #expect(
            await buyerTablet.received("active_user_list").first?.data?["rooms"] == [
                ["room_id": "b1.s1", "status": false]
            ])
    }

    @Test func statusChangesGoToTheOtherPartyOnTheFirstConnectAndTheLastDisconnect() async throws {
        let chat = Chat()
        let (buyer, seller) = try await chat.withRoom()
        try await seller.close()
        #expect(
            await buyer.received("user_status_change").map(\.data) == [
                ["user_id": "s1", "user_role": "SELLER", "room_id": "b1.s1", "status": false]
            ])
        let phone = try await chat.connect("s1", "SELLER")
        let laptop = try await chat.connect("s1", "SELLER")
        try await phone.close()
        // The laptop is still online: only the first connect counted.
        #expect(await buyer.received("user_status_change").map { $0.data?["status"] } == [false, true])
        try await laptop.close()
        #expect(await buyer.received("user_status_change").map { $0.data?["status"] } == [false, true, false])
        // The seller's own sockets never hear of themselves; the presence set is empty.
        #expect(await laptop.received("user_status_change").isEmpty)
        #expect(try await chat.store().set("user", "s1", "SELLER", "sockets").members().isEmpty)
    }

    @Test func aUsersOtherRoleIsAnotherParty() async throws {
        let chat = Chat()
        let (buyer, seller) = try await chat.withRoom()
        // s1 also buys: connected as BUYER it is not in b1.s1 and hears nothing of it.
        let sellerShopping = try await chat.connect("s1", "BUYER")
        try await Self.emit(buyer, "new_message", Chat.message())
        try await Self.emit(buyer, "typing", ["room_id": "b1.s1", "from": "b1", "to": "s1"])
        #expect(await seller.received("new_message").count == 1)
        #expect(await sellerShopping.received("new_message").isEmpty)
        #expect(await sellerShopping.received("typing").isEmpty)
        #expect(await sellerShopping.received("active_user_list").first?.data?["rooms"] == [])
        // And its connecting as BUYER is no SELLER status change.
        #expect(await buyer.received("user_status_change").isEmpty)
    }

    // MARK: Pieces

    @Test func timestampsAreISO8601UTCWithMilliseconds() {
        #expect(MarketplaceChatApp.timestamp(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(MarketplaceChatApp.timestamp(milliseconds: 1_700_000_000_123) == "2023-11-14T22:13:20.123Z")
        #expect(MarketplaceChatApp.timestamp(milliseconds: 951_782_400_007) == "2000-02-29T00:00:00.007Z")
        #expect(MarketplaceChatApp.timestamp(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
    }

    @Test func messageIDsAreObjectIDShapedAndUnique() {
        let ids = (0..<100).map { _ in MarketplaceChatApp.Message.makeID(seconds: 0x6553_F100) }
        #expect(Set(ids).count == 100)
        #expect(ids.allSatisfy { $0.count == 24 && $0.hasPrefix("6553f100") })
    }

    @Test func roomIDsSplitIntoBuyerAndSeller() {
        #expect(MarketplaceChatApp.parties(ofRoom: "b1.s1")?.seller == .init(user: "s1", role: .seller))
        #expect(MarketplaceChatApp.parties(ofRoom: "b1.s1.x") == nil)
        #expect(MarketplaceChatApp.parties(ofRoom: ".s1") == nil)
    }

    @Test func theAppIsBuiltIn() {
        #expect(RoomsApps.builtIn["marketplace-chat"]?.name == "marketplace-chat")
    }
}
