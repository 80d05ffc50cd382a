import PortcullisBus
import Testing

@testable import PortcullisRooms

/// The `model-activity` app on the in-memory bus: `join` and `leave` of both room kinds,
/// the `message` and `error` shapes clients read, the model ACL, malformed data, and
/// backend events reaching the rooms (with `except`).
@Suite struct ModelActivityAppTests {
    static let teamspace = "john"
    static let project = "a608516e-0fef-4185-bca8-bf03a256ad3d"
    static let model = "808d98ee-aad1-11ec-b909-0242ac120002"
    static let modelData: JSON = [
        "teamspace": .string(teamspace), "project": .string(project), "model": .string(model),
    ]
    static let modelRoom = "model::\(teamspace)::\(project)::\(model)"

    /// A bus with the app, model `john/…/808d…` known and readable by `readers`.
    static func bus(readers: [String] = ["alice"]) async throws -> InMemoryBus {
        let bus = InMemoryBus(app: ModelActivityApp())
        let access = ModelActivityAccess(
            store: RoomsStore(storage: bus.storage, prefix: "portcullis", app: "model-activity"))
        let id = ModelActivityRoom.ModelID(teamspace: teamspace, project: project, model: model)
        try await access.models.add(id.key)
        for reader in readers {
            try await access.members(of: id).add(reader)
        }
        return bus
    }

    static func connected(_ bus: InMemoryBus, user: String?) async throws -> InMemoryBus.Client {
        let client = await bus.connect(user: user)
        #expect(try await client.join("/"))
        return client
    }

    static func success(_ action: String, _ data: JSON) -> JSON {
        ["event": "success", "data": ["action": .string(action), "data": data]]
    }

    static func error(_ code: String, _ message: String, _ action: String, _ data: JSON) -> JSON {
        ["code": .string(code), "message": .string(message), "details": ["action": .string(action), "data": data]]
    }

    /// What a backend XADDs to `out:bcast`: `event` to `room`, leaving out `except`.
    static func publish(_ bus: InMemoryBus, room: String, event: String, _ data: JSON, except: String? = nil)
        async throws
    {
        try await bus.publish(
            Envelope(
                id: Envelope.randomID(), kind: .emit, app: "model-activity", target: .room(room), except: except,
                event: event, data: .json(data.text)))
    }

    @Test func joiningTheNotificationsRoomConfirmsAndDeliversTheUsersNotificationsOnly() async throws {
        let bus = try await Self.bus()
        let alice = try await Self.connected(bus, user: "alice")
        let bob = try await Self.connected(bus, user: "bob")
        try await alice.emit("join", ["notifications": true])
        try await bob.emit("join", ["notifications": true])

        #expect(await alice.received("message").map(\.data) == [Self.success("join", ["notifications": true])])
        #expect(await alice.rooms() == ["notifications::alice"])
        #expect(await bob.rooms() == ["notifications::bob"])
        try await Self.publish(bus, room: "notifications::alice", event: "importSuccess", ["model": "m1"])
        #expect(await alice.received("importSuccess").map(\.data) == [["model": "m1"]])
        #expect(await bob.received("importSuccess").isEmpty)
    }

    @Test func joiningAModelWithReadAccessConfirmsAndDeliversItsActivity() async throws {
        let bus = try await Self.bus()
        let alice = try await Self.connected(bus, user: "alice")
        try await alice.emit("join", Self.modelData)

        #expect(await alice.received("message").map(\.data) == [Self.success("join", Self.modelData)])
        #expect(await alice.received("error").isEmpty)
        #expect(await alice.rooms() == [Self.modelRoom])
        try await Self.publish(bus, room: Self.modelRoom, event: "containerNewRevision", ["tag": "v2"])
        #expect(await alice.received("containerNewRevision").map(\.data) == [["tag": "v2"]])
    }

    @Test func joiningAModelWithoutReadAccessIsUnauthorised() async throws {
        let bus = try await Self.bus(readers: ["alice"])
        let mallory = try await Self.connected(bus, user: "mallory")
        try await mallory.emit("join", Self.modelData)

        let expected = Self.error(
            "UNAUTHORISED", "You do not have sufficient access rights to join the room requested", "join",
            Self.modelData)
        #expect(await mallory.received("error").map(\.data) == [expected])
        #expect(await mallory.received("message").isEmpty)
        #expect(await mallory.rooms() == [])
        try await Self.publish(bus, room: Self.modelRoom, event: "containerNewRevision", ["tag": "v2"])
        #expect(await mallory.received("containerNewRevision").isEmpty)
    }

    @Test func joiningAnUnknownModelIsRoomNotFound() async throws {
        let bus = try await Self.bus()
        let alice = try await Self.connected(bus, user: "alice")
        let unknown: JSON = ["teamspace": "john", "project": .string(Self.project), "model": "no-such-model"]
        try await alice.emit("join", unknown)

        #expect(
            await alice.received("error").map(\.data) == [
                Self.error("ROOM_NOT_FOUND", "Model not found", "join", unknown)
            ])
        #expect(await alice.rooms() == [])
    }

    @Test func aSocketWithoutAVerifiedUserIsNotLoggedIn() async throws {
        let bus = try await Self.bus()
        let anonymous = try await Self.connected(bus, user: nil)
        try await anonymous.emit("join", ["notifications": true])
        try await anonymous.emit("leave", Self.modelData)

        #expect(
            await anonymous.received("error").map(\.data) == [
                Self.error("UNAUTHORISED", "You are not logged in", "join", ["notifications": true]),
                Self.error("UNAUTHORISED", "You are not logged in", "leave", Self.modelData),
            ])
        #expect(await anonymous.rooms() == [])
    }

    @Test(arguments: [
        JSON.string("notifications"), 42, [["notifications": true]], ["notifications": "yes"],
        ["teamspace": 1, "project": "p", "model": "m"], ["teamspace": "a:b", "project": "p", "model": "m"],
        ["teamspace": "t", "project": "", "model": "m"],
    ])
    func malformedDataIsInvalidArguments(_ data: JSON) async throws {
        let bus = try await Self.bus()
        let alice = try await Self.connected(bus, user: "alice")
        try await alice.emit("join", data)

        let errors = await alice.received("error").map(\.data)
        #expect(errors.map { $0?["code"] } == ["INVALID_ARGUMENTS"])
        #expect(errors.map { $0?["details"] } == [["action": "join", "data": data]])
        #expect(await alice.rooms() == [])
    }

    @Test func anEventWithoutDataIsInvalidArgumentsWithNullData() async throws {
        let bus = try await Self.bus()
        let alice = try await Self.connected(bus, user: "alice")
        try await alice.emit("leave")

        let errors = await alice.received("error").map(\.data)
        #expect(errors.map { $0?["code"] } == ["INVALID_ARGUMENTS"])
        #expect(errors.map { $0?["details"] } == [["action": "leave", "data": nil]])
    }

    @Test(
        arguments: [
            [:], ["notifications": false], ["teamspace": "john", "model": "m"], ["project": "p", "model": "m"],
        ] as [JSON])
    func dataThatNamesNoRoomIsRoomNotFound(_ data: JSON) async throws {
        let bus = try await Self.bus()
        let alice = try await Self.connected(bus, user: "alice")
        try await alice.emit("join", data)

        #expect(
            await alice.received("error").map(\.data) == [
                Self.error("ROOM_NOT_FOUND", "Cannot identify the room indicated", "join", data)
            ])
    }

    @Test func leavingConfirmsAndStopsTheRoomsEvents() async throws {
        let bus = try await Self.bus()
        let alice = try await Self.connected(bus, user: "alice")
        try await alice.emit("join", Self.modelData)
        try await alice.emit("join", ["notifications": true])
        try await alice.emit("leave", Self.modelData)

        #expect(
            await alice.received("message").map(\.data) == [
                Self.success("join", Self.modelData), Self.success("join", ["notifications": true]),
                Self.success("leave", Self.modelData),
            ])
        #expect(await alice.rooms() == ["notifications::alice"])
        try await Self.publish(bus, room: Self.modelRoom, event: "containerSettingsUpdate", ["name": "x"])
        #expect(await alice.received("containerSettingsUpdate").isEmpty)
        try await alice.emit("leave", ["notifications": true])
        #expect(await alice.rooms() == [])
    }

    @Test func leavingNeedsAnExistingModelButNoAccess() async throws {
        let bus = try await Self.bus(readers: [])
        let alice = try await Self.connected(bus, user: "alice")
        try await alice.emit("leave", Self.modelData)
        let unknown: JSON = ["teamspace": "john", "project": "p", "model": "gone"]
        try await alice.emit("leave", unknown)

        #expect(await alice.received("message").map(\.data) == [Self.success("leave", Self.modelData)])
        #expect(
            await alice.received("error").map(\.data) == [
                Self.error("ROOM_NOT_FOUND", "Model not found", "leave", unknown)
            ])
    }

    @Test func aBackendEventWithExceptSkipsTheOriginatingSocketOnly() async throws {
        let bus = try await Self.bus(readers: ["alice", "bob"])
        let aliceLaptop = try await Self.connected(bus, user: "alice")
        let alicePhone = try await Self.connected(bus, user: "alice")
        let bob = try await Self.connected(bus, user: "bob")
        for client in [aliceLaptop, alicePhone, bob] { try await client.emit("join", Self.modelData) }

        // The REST call came from the laptop's socket (its x-socket-id).
        try await Self.publish(
            bus, room: Self.modelRoom, event: "containerNewTicket", ["id": "t1"], except: aliceLaptop.id)
        #expect(await aliceLaptop.received("containerNewTicket").isEmpty)
        #expect(await alicePhone.received("containerNewTicket").map(\.data) == [["id": "t1"]])
        #expect(await bob.received("containerNewTicket").map(\.data) == [["id": "t1"]])
    }
}
