import PortcullisBus
import Testing

@testable import PortcullisRooms

/// The "Shared" namespace: `join` registers a socket for its user, and what a backend
/// publishes to the user's room reaches that user's joined sockets only.
@Suite struct SharedNotificationsAppTests {
    static let namespace = SharedNotificationsApp.namespace

    /// What `POST /emit/:userId/:event` publishes for `user`.
    static func emit(_ event: String, to user: String, data: String) -> Envelope {
        Envelope(
            id: Envelope.randomID(), kind: .emit, app: "shared-notifications", namespace: Self.namespace,
            target: .room("user:\(user)"), event: event, data: .json(data))
    }

    @Test func joinIsAcknowledgedLikeTheProductsServer() async throws {
        let bus = InMemoryBus(app: SharedNotificationsApp())
        let alice = await bus.connect(user: "64abc")
        try await alice.join(Self.namespace)
        let answer = try await alice.emit("join", [:], namespace: Self.namespace, ack: true)
        #expect(answer == [["success": true, "message": "SUCCESS"]])
        #expect(await alice.rooms(in: Self.namespace) == ["user:64abc"])
        // A second join changes nothing.
        _ = try await alice.emit("join", [:], namespace: Self.namespace, ack: true)
        #expect(await alice.rooms(in: Self.namespace) == ["user:64abc"])
    }

    @Test func eachUserGetsOnlyTheirOwnEventsOnEveryJoinedSocket() async throws {
        let bus = InMemoryBus(app: SharedNotificationsApp())
        let phone = await bus.connect(user: "u1")
        let laptop = await bus.connect(user: "u1")
        let notJoined = await bus.connect(user: "u1")
        let other = await bus.connect(user: "u2")
        for client in [phone, laptop, notJoined, other] { try await client.join(Self.namespace) }
        for client in [phone, laptop, other] { try await client.emit("join", [:], namespace: Self.namespace) }

        try await bus.publish(Self.emit("notification", to: "u1", data: #"{"title":"New Lead"}"#))
        for client in [phone, laptop] {
            #expect(await client.received("notification").map(\.data) == [["title": "New Lead"]])
        }
        #expect(await notJoined.received("notification").isEmpty)
        #expect(await other.received("notification").isEmpty)
    }

    @Test func otherNamespacesAreNotServed() async throws {
        let bus = InMemoryBus(app: SharedNotificationsApp())
        let alice = await bus.connect(user: "u1")
        try await alice.join("/")
        #expect(try await alice.emit("join", [:], namespace: "/", ack: true) == nil)
        #expect(await alice.rooms(in: "/") == [])
    }
}
