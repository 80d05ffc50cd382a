import PortcullisBus
import Testing

@testable import PortcullisRooms

/// The community app on the in-memory bus: who may subscribe to which channel, the
/// stream each subscription follows, and which subscribers each documented event reaches
/// when a backend publishes it. No Redis.
@Suite struct CommunityAppTests {
    static let memberChannels: [CommunityChannel] = [.notification, .chatRoom, .memberThreads]

    /// An identifier as Circle's client writes it: `{"channel":…,"community_member_id":…}`.
    static func identifier(_ channel: CommunityChannel, member: JSON) -> String {
        JSON.object(["channel": .string(channel.name), "community_member_id": member]).text
    }

    static func room(_ room: JSON, member: JSON? = nil) -> String {
        var members: [String: JSON] = ["channel": .string(CommunityChannel.room.name), "chat_room_id": room]
        members["community_member_id"] = member
        return JSON.object(members).text
    }

    /// A bus with the app, and `members` of chat rooms put in their sets the way a backend
    /// would (`SADD`).
    static func bus(rooms: [String: [String]] = [:]) async throws -> InMemoryBus {
        let bus = InMemoryBus(app: CommunityApp())
        let store = RoomsStore(storage: bus.storage, prefix: StreamNames.defaultPrefix, app: "community")
        for (room, members) in rooms {
            for member in members {
                try await CommunityApp.members(ofRoom: room, in: store).add(member)
            }
        }
        return bus
    }

    /// A connection whose token says `sub` and, when given, `community_member_id`.
    static func member(_ bus: InMemoryBus, sub: String, claim: JSON? = nil) async -> InMemoryBus.Client {
        var claims: [String: JSON] = ["sub": .string(sub), "exp": 1_900_000_000]
        claims["community_member_id"] = claim
        return await bus.connect(user: sub, claims: .object(claims))
    }

    // MARK: Streams

    @Test func streamsAreTheProductsPubsubQueues() {
        #expect(CommunityChannel.notification.stream("42") == "notification-channel-42")
        #expect(CommunityChannel.chatRoom.stream("42") == "chat-room-channel-42")
        #expect(CommunityChannel.room.stream("7") == "chat-room-7-channel")
        #expect(CommunityChannel.memberThreads.stream("42") == "chat-community-member-42-threads-channel")
        #expect(
            CommunityChannel.allCases.map(\.name) == [
                "NotificationChannel", "ChatRoomChannel", "Chats::RoomChannel", "Chats::CommunityMemberThreadsChannel",
            ])
    }

    // MARK: Member channels

    @Test(arguments: CommunityAppTests.memberChannels)
    func aMemberSubscribesToItsOwnChannelByNumberOrStringAndFollowsItsStream(channel: CommunityChannel) async throws {
        let bus = try await Self.bus()
        let member = await Self.member(bus, sub: "42", claim: 42)
        for id in [JSON.int(42), .string("42")] {
            let identifier = Self.identifier(channel, member: id)
            #expect(try await member.subscribe(identifier))
            #expect(await member.rooms(in: identifier) == [channel.stream("42")])
        }
    }

    @Test(arguments: CommunityAppTests.memberChannels)
    func anotherMembersChannelIsRejected(channel: CommunityChannel) async throws {
        let bus = try await Self.bus()
        let member = await Self.member(bus, sub: "42", claim: 42)
        for id: JSON in [43, "43", "042", " 42", "42 "] {
            #expect(try await member.subscribe(Self.identifier(channel, member: id)) == false, "\(id)")
        }
        #expect(await member.namespaces.isEmpty)
        #expect(await member.isConnected)
    }

    @Test(arguments: CommunityAppTests.memberChannels)
    func aMissingOrMalformedMemberIdIsRejected(channel: CommunityChannel) async throws {
        let bus = try await Self.bus()
        let member = await Self.member(bus, sub: "42", claim: 42)
        #expect(try await member.subscribe(#"{"channel":"\#(channel.name)"}"#) == false)
        for id: JSON in [nil, "", true, 42.5, [42], ["id": 42]] {
            #expect(try await member.subscribe(Self.identifier(channel, member: id)) == false, "\(id)")
        }
        #expect(await member.namespaces.isEmpty)
    }

    @Test func theMemberIsTheCommunityMemberIdClaimRatherThanTheSubject() async throws {
        let bus = try await Self.bus()
        let member = await Self.member(bus, sub: "auth0|abc", claim: "42")
        #expect(try await member.subscribe(Self.identifier(.notification, member: 42)))
        #expect(try await member.subscribe(Self.identifier(.chatRoom, member: "auth0|abc")) == false)
    }

    @Test func withoutTheClaimTheMemberIsTheSubject() async throws {
        let bus = try await Self.bus()
        let member = await Self.member(bus, sub: "42")
        #expect(try await member.subscribe(Self.identifier(.notification, member: 42)))
        #expect(try await member.subscribe(Self.identifier(.chatRoom, member: "42")))
        #expect(try await member.subscribe(Self.identifier(.memberThreads, member: 43)) == false)
    }

    @Test func aClaimOfAnotherTypeNamesNobodyNotEvenTheSubject() async throws {
        let bus = try await Self.bus(rooms: ["5": ["42"]])
        let member = await Self.member(bus, sub: "42", claim: true)
        #expect(try await member.subscribe(Self.identifier(.notification, member: 42)) == false)
        #expect(try await member.subscribe(Self.room(5)) == false)
    }

    @Test func anonymousConnectionsAreRejectedEverywhere() async throws {
        let bus = try await Self.bus(rooms: ["5": ["42"]])
        let anonymous = await bus.connect()
        #expect(try await anonymous.subscribe(Self.identifier(.notification, member: 42)) == false)
        #expect(try await anonymous.subscribe(Self.room(5)) == false)
        #expect(try await anonymous.subscribe(Self.room(5, member: 42)) == false)
    }

    @Test func unknownChannelsAreRejected() async throws {
        let bus = try await Self.bus()
        let member = await Self.member(bus, sub: "42")
        #expect(try await member.subscribe(#"{"channel":"ChatChannel","community_member_id":42}"#) == false)
        #expect(try await member.subscribe(#"{"channel":"Chats::ThreadChannel","community_member_id":42}"#) == false)
    }

    // MARK: Rooms

    @Test func aRoomsMemberSubscribesByNumberOrStringAndFollowsTheRoomStream() async throws {
        let bus = try await Self.bus(rooms: ["5": ["41", "42"]])
        let member = await Self.member(bus, sub: "42", claim: 42)
        for identifier in [
            Self.room(5), Self.room("5"), Self.room("005"), Self.room(5, member: 42), Self.room(5, member: "42"),
        ] {
            #expect(try await member.subscribe(identifier), "\(identifier)")
            #expect(await member.rooms(in: identifier) == ["chat-room-5-channel"])
        }
    }

    @Test func aRoomTheMemberIsNotInIsRejected() async throws {
        let bus = try await Self.bus(rooms: ["5": ["41"], "6": ["42"]])
        let member = await Self.member(bus, sub: "42", claim: 42)
        #expect(try await member.subscribe(Self.room(5)) == false)
        #expect(try await member.subscribe(Self.room(7)) == false)
        #expect(try await member.subscribe(Self.room(6)))
        #expect(await member.namespaces == [Self.room(6)])
    }

    @Test func aRoomIdentifierNamingAnotherMemberIsRejected() async throws {
        let bus = try await Self.bus(rooms: ["5": ["41", "42"]])
        let member = await Self.member(bus, sub: "42", claim: 42)
        #expect(try await member.subscribe(Self.room(5, member: 41)) == false)
        #expect(try await member.subscribe(Self.room(5, member: true)) == false)
    }

    @Test func aMissingOrMalformedRoomIdIsRejected() async throws {
        let bus = try await Self.bus(rooms: ["5": ["42"], "-5": ["42"], "abc": ["42"], "0": ["42"]])
        let member = await Self.member(bus, sub: "42", claim: 42)
        #expect(try await member.subscribe(#"{"channel":"Chats::RoomChannel","community_member_id":42}"#) == false)
        for id: JSON in [nil, "", 0, "0", -5, "-5", "+5", "abc", "5 ", 5.5, true, [5]] {
            #expect(try await member.subscribe(Self.room(id)) == false, "\(id)")
        }
        #expect(await member.namespaces.isEmpty)
    }

    @Test func membershipIsReadAtEachSubscribe() async throws {
        let bus = try await Self.bus()
        let store = RoomsStore(storage: bus.storage, prefix: StreamNames.defaultPrefix, app: "community")
        let set = CommunityApp.members(ofRoom: "5", in: store)
        #expect(set.key == "portcullis:app:community:chat-room:5:members")
        let member = await Self.member(bus, sub: "42")
        #expect(try await member.subscribe(Self.room(5)) == false)
        try await set.add("42")
        #expect(try await member.subscribe(Self.room(5)))
        try await set.remove("42")
        let again = await Self.member(bus, sub: "42")
        #expect(try await again.subscribe(Self.room(5)) == false)
    }

    @Test func theAppWritesNothingToTheStore() async throws {
        let bus = try await Self.bus(rooms: ["5": ["42"]])
        let member = await Self.member(bus, sub: "42")
        #expect(try await member.subscribe(Self.room(5)))
        #expect(try await member.subscribe(Self.identifier(.notification, member: 42)))
        try await member.close()
        #expect(bus.storage.keys == ["portcullis:app:community:chat-room:5:members"])
    }

    // MARK: Events

    /// Alice (42) and Bob (43) subscribe to all their channels; both are in room 5, only
    /// Bob is in room 6. Every documented event, published on each stream the docs name for
    /// it (Alice's member streams, room 5), reaches the subscriptions following that stream
    /// and no other, with its fields as published.
    @Test func eachEventReachesExactlyTheSubscriptionsOfItsStream() async throws {
        let bus = try await Self.bus(rooms: ["5": ["42", "43"], "6": ["43"]])
        let alice = await Self.member(bus, sub: "42", claim: 42)
        let bob = await Self.member(bus, sub: "43", claim: 43)
        var identifiers: [String: [CommunityChannel: String]] = [:]
        for (client, id, rooms) in [(alice, "42", [5]), (bob, "43", [5, 6])] {
            for channel in Self.memberChannels {
                let identifier = Self.identifier(channel, member: .string(id))
                #expect(try await client.subscribe(identifier))
                identifiers[client.id, default: [:]][channel] = identifier
            }
            for room in rooms {
                #expect(try await client.subscribe(Self.room(.int(room))))
            }
        }
        let aliceRoom5 = Self.room(5)

        var expected: [String: [InMemoryBus.Delivery]] = [alice.id: [], bob.id: []]
        for name in CommunityEvent.Name.allCases {
            for channel in name.channels {
                let data: JSON = ["event_under_test": .string(name.rawValue), "channel": .string(channel.name)]
                let event = CommunityEvent(name, data)
                let stream = channel == .room ? channel.stream("5") : channel.stream("42")
                try await bus.publish(event.envelope(on: stream))
                let message = InMemoryBus.Delivery(
                    namespace: nil, event: nil, arguments: [event.message], attachments: [])
                if channel == .room {
                    for client in [alice, bob] {
                        var delivery = message
                        delivery.namespace = aliceRoom5
                        expected[client.id]?.append(delivery)
                    }
                } else {
                    var delivery = message
                    delivery.namespace = identifiers[alice.id]?[channel]
                    expected[alice.id]?.append(delivery)
                }
            }
        }
        #expect(await alice.deliveries == expected[alice.id])
        #expect(await bob.deliveries == expected[bob.id])
        #expect(await bob.deliveries.allSatisfy { $0.namespace == aliceRoom5 })
    }

    @Test func eventsTravelAsAnEventNameAndItsDataWithoutNamespace() throws {
        let event = CommunityEvent(.updateNewNotificationCount, ["new_notifications_count": 3])
        let envelope = event.envelope(on: "notification-channel-42", id: "e1", timestamp: 7)
        #expect(envelope.kind == .emit)
        #expect(envelope.target == .room("notification-channel-42"))
        #expect(envelope.namespace == nil)
        #expect(envelope.event == nil)
        #expect(envelope.app == "community")
        #expect(envelope.data?.type == .json)
        #expect(
            JSON(parsing: envelope.data?.string ?? "") == [
                "event": "updateNewNotificationCount", "data": ["new_notifications_count": 3],
            ])
        #expect(CommunityEvent.Name.allCases.count == 13)
    }

    @Test func theDocumentedEventsGoOnTheDocumentedChannels() {
        let on = { (channel: CommunityChannel) in
            CommunityEvent.Name.allCases.filter { $0.channels.contains(channel) }.map(\.rawValue)
        }
        #expect(on(.notification) == ["newNotification", "updateNewNotificationCount", "resetNewNotificationCount"])
        #expect(
            on(.chatRoom) == [
                "chatRoomCreated", "chatRoomUpdated", "chatRoomDeleted", "chatRoomRead", "chatRoomPinned",
                "chatRoomUnPinned", "newMessage",
            ])
        #expect(on(.room) == ["chatRoomUpdated", "newMessage", "updatedMessage", "deletedMessage"])
        #expect(on(.memberThreads) == ["newMessage", "updatedMessage", "deletedMessage", "chatThreadRead"])
    }

    // MARK: Client actions

    @Test func actionsClientsPerformAreIgnored() async throws {
        let bus = try await Self.bus(rooms: ["5": ["42", "43"]])
        let alice = await Self.member(bus, sub: "42")
        let bob = await Self.member(bus, sub: "43")
        let notifications = Self.identifier(.chatRoom, member: 42)
        #expect(try await alice.subscribe(notifications))
        #expect(try await alice.subscribe(Self.room(5)))
        #expect(try await bob.subscribe(Self.room(5)))
        try await alice.perform(
            "message", data: ["action": "message", "data": "Hello Server!"], identifier: notifications)
        try await alice.perform("speak", data: ["body": "hi"], identifier: Self.room(5))
        try await alice.perform("receive", data: [:], identifier: Self.room(5))
        #expect(await alice.deliveries.isEmpty)
        #expect(await bob.deliveries.isEmpty)
        #expect(await alice.namespaces.count == 2)
    }

    @Test func leavingDropsOnlyThatSubscription() async throws {
        let bus = try await Self.bus(rooms: ["5": ["42"]])
        let alice = await Self.member(bus, sub: "42")
        let notifications = Self.identifier(.notification, member: 42)
        #expect(try await alice.subscribe(notifications))
        #expect(try await alice.subscribe(Self.room(5)))
        try await alice.leave(Self.room(5))
        try await bus.publish(CommunityEvent(.newMessage, ["id": 1]).envelope(on: "chat-room-5-channel"))
        try await bus.publish(CommunityEvent(.newNotification, ["id": 2]).envelope(on: "notification-channel-42"))
        #expect(await alice.deliveries.map(\.namespace) == [notifications])
    }

    @Test func isRegisteredUnderItsName() {
        #expect(RoomsApps.builtIn["community"]?.name == "community")
    }
}
