import PortcullisBus
import PortcullisConfig
import Testing

@testable import PortcullisEdge

/// The "shared" notifications product's REST endpoints: their paths, and what their bodies
/// become on a route with and without a per-user room.
@Suite struct PublishNotificationsTests {
    private static let location = SourceLocation(file: "main.yaml", line: 9, keyPath: "routes[0].socket.emit_endpoints")

    private func emitRoute(room: String? = "shared:user:{user}", socketIO: Bool = true) throws -> EmitRoute {
        var socket = SocketAction(app: "shared")
        socket.wireProtocol = socketIO ? .socketio : .raw
        socket.emitEndpoints = SocketAction.EmitEndpoints(
            room: room, namespace: socketIO ? "/v1/shared" : nil, location: Self.location)
        let route = Route(name: "shared", match: RouteMatch(path: "/"), socket: socket, location: Self.location)
        return try #require(EmitRoute(routes: [route]))
    }

    private func toUser(
        _ body: String, user: String = "64abc", event: String = "notification", room: String? = "shared:user:{user}"
    )
        throws -> Envelope
    {
        let route = try emitRoute(room: room)
        return try publishReader().emit(event: event, toUser: user, body: Array(body.utf8), route: route)
    }

    private func toUsers(_ body: String, event: String = "system_announcement") throws -> [Envelope] {
        let route = try emitRoute()
        return try publishReader().emit(event: event, body: Array(body.utf8), route: route)
    }

    private func usersError(_ body: String) throws -> String? {
        let route = try emitRoute()
        return refusal { () throws(PublishError) in
            try publishReader().emit(event: "e", body: Array(body.utf8), route: route)
        }?.message
    }

    // MARK: Paths

    @Test func pathsAreRecognisedAndDecodedAsExpressDoes() throws {
        func endpoint(_ target: String) -> PublishEndpoint? {
            try? PublishEndpoint.recognise(target: target)?.get()
        }
        #expect(endpoint("/publish") == .publish)
        #expect(endpoint("/publish?x=1") == .publish)
        #expect(endpoint("/_broadcast") == .broadcast)
        #expect(endpoint("/emit/64abc/notification") == .emitToUser(user: "64abc", event: "notification"))
        #expect(endpoint("/emit/a%2Fb%20c/new%20lead/") == .emitToUser(user: "a/b c", event: "new lead"))
        #expect(endpoint("/emit/system_announcement") == .emitToUsers(event: "system_announcement"))
        #expect(endpoint("/emit/data_sync/?v=2") == .emitToUsers(event: "data_sync"))
        #expect(PublishEndpoint.recognise(target: "/healthz") == nil)
        #expect(PublishEndpoint.recognise(target: "/emitter") == nil)
        #expect(PublishEndpoint.recognise(target: "/publish/x") == nil)
    }

    @Test func malformedEmitPathsAreRefusedWithTheirReason() {
        func error(_ target: String) -> PublishError? {
            guard case .failure(let error) = PublishEndpoint.recognise(target: target) else { return nil }
            return error
        }
        #expect(error("/emit//notification") == .invalid("userId: must not be empty"))
        #expect(error("/emit/") == .invalid("event: must not be empty"))
        #expect(error("/emit/u/%E2%28") == .invalid("event: malformed percent-encoding in the path"))
        #expect(error("/emit/u/%zz") == .invalid("event: malformed percent-encoding in the path"))
        #expect(error("/emit/a/b/c")?.code == .notFound)
        #expect(error("/emit")?.code == .notFound)
    }

    // MARK: POST /emit/:userId/:event

    @Test func theWholeBodyIsTheEventForTheUsersRoom() throws {
        let body = #"{"title": "New Lead", "data": {"lead_id": "64lead"}}"#
        #expect(
            try toUser(body)
                == Envelope(
                    id: "id-1", kind: .emit, app: "shared", namespace: "/v1/shared",
                    target: .room("shared:user:64abc"), event: "notification", data: .json(body),
                    timestamp: 1_700_000_000_000))
    }

    @Test func withoutARoomTheEventGoesToTheUser() throws {
        #expect(try toUser(#"[1, 2]"#, room: nil).target == .user("64abc"))
        #expect(try toUser(#"[1, 2]"#, room: nil).data == .json("[1, 2]"))
    }

    @Test func anEmptyBodyIsAnEmptyObjectAsInExpress() throws {
        #expect(try toUser("").data == .json("{}"))
        #expect(try toUser(" \n").data == .json("{}"))
    }

    @Test func aBodyThatIsNotJSONOrAReservedEventIsRefused() throws {
        let route = try emitRoute()
        let notJSON = refusal { () throws(PublishError) in
            try publishReader().emit(event: "e", toUser: "u", body: Array("a=1".utf8), route: route)
        }
        #expect(notJSON?.message == "body: not valid JSON: expected a JSON value at byte 0")
        let reserved = refusal { () throws(PublishError) in
            try publishReader().emit(event: "disconnect", toUser: "u", body: [], route: route)
        }
        #expect(reserved?.message == #"event: "disconnect" is reserved by Socket.IO and cannot be emitted"#)
    }

    // MARK: POST /emit/:event

    @Test func eachUserGetsTheDataOnce() throws {
        let envelopes = try toUsers(
            #"{"userIds": ["64abc", "64def", "64abc", 7], "data": {"title": "Maintenance"}, "extra": 1}"#)
        #expect(
            envelopes.map(\.target) == [.room("shared:user:64abc"), .room("shared:user:64def"), .room("shared:user:7")])
        #expect(envelopes.allSatisfy { $0.data == .json(#"{"title": "Maintenance"}"#) })
        #expect(envelopes.allSatisfy { $0.event == "system_announcement" && $0.namespace == "/v1/shared" })
        #expect(envelopes.map(\.id) == ["id-1", "id-2", "id-3"])
    }

    @Test func userIdsMayBeAJSONStringOfAnArrayOrOneID() throws {
        #expect(
            try toUsers(#"{"userIds": "[\"a\",\"b\"]", "data": 1}"#).map(\.target) == [
                .room("shared:user:a"), .room("shared:user:b"),
            ])
        #expect(try toUsers(#"{"userIds": "a", "data": 1}"#).map(\.target) == [.room("shared:user:a")])
        #expect(try toUsers(#"{"userIds": 12, "data": 1}"#).map(\.target) == [.room("shared:user:12")])
        #expect(try toUsers(#"{"userIds": []}"#).isEmpty)
    }

    @Test func absentDataIsNull() throws {
        #expect(try toUsers(#"{"userIds": ["a"]}"#).first?.data == .json("null"))
    }

    @Test func badUserListsAreRefused() throws {
        #expect(try usersError(#"{"data": 1}"#) == "body.userIds: required")
        #expect(try usersError(#"{"userIds": null}"#) == "body.userIds: required")
        #expect(try usersError(#"["a"]"#) == "body: expected a JSON object with userIds and data, got an array")
        #expect(
            try usersError(#"{"userIds": "[a,b]"}"#)
                == "body.userIds: a string holding [ must be a JSON array of user ids")
        #expect(
            try usersError(#"{"userIds": ["a", {"id": 1}]}"#)
                == "body.userIds[1]: expected a user id (a string or an integer), got an object")
        #expect(try usersError(#"{"userIds": ["a", ""]}"#) == "body.userIds[1]: must not be empty")
        #expect(
            try usersError(#"{"userIds": 1.5}"#)
                == "body.userIds: expected a user id (a string or an integer), got a number")
        #expect(try usersError(#"{"userIds": [], "userIds": ["a"]}"#) == "body.userIds: given twice")
        let many = "[" + (0...10_000).map { "\"u\($0)\"" }.joined(separator: ",") + "]"
        #expect(
            try usersError(#"{"userIds": \#(many)}"#) == "body.userIds: 10001 user ids in one request, at most 10000")
    }

    @Test func onARawRouteReservedNamesAreOrdinaryEvents() throws {
        let route = try emitRoute(room: nil, socketIO: false)
        let envelope = try publishReader().emit(event: "connect", toUser: "u", body: [], route: route)
        #expect(envelope.namespace == nil)
        #expect(envelope.event == "connect")
    }
}
