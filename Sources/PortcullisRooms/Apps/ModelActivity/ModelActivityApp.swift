import PortcullisBus

/// The `model-activity` app: the handler side of a 3D-model collaboration activity feed
/// (3D Repo's chat service), served on the Socket.IO route of
/// `conf/routes.d/model-activity.yaml`. What clients and backends see is in
/// docs/apps/model-activity.md; in short:
///
/// - `join` / `leave` with `{"notifications": true}` (the room of the user's own
///   notifications) or `{"teamspace", "project", "model"}` (the room of one model's
///   activity; see ``ModelActivityRoom`` for the room names backends publish to).
/// - Success: the socket joins or leaves the room, then gets `message`
///   `{"event": "success", "data": {"action": <join|leave>, "data": <what it sent>}}`.
/// - Failure: `error` `{"code", "message", "details": {"action", "data"}}` with code
///   `UNAUTHORISED` (no verified user; no read access to the model, on `join`),
///   `ROOM_NOT_FOUND` (the model does not exist; the data names no room) or
///   `INVALID_ARGUMENTS` (not an object, a member of the wrong type).
/// - Model access is read from the ACL the backend mirrors into Redis
///   (``ModelActivityAccess``); `leave` only needs the model to exist.
///
/// The events backends publish (new revisions, settings updates, notifications) reach the
/// rooms straight from `<prefix>:out:bcast`; `loggedOut` when the session ends is the edge's
/// (`socketio.expiry_event`). The app keeps no per-socket state: the edge holds the rooms.
public struct ModelActivityApp: RoomsApp {
    public let name: String

    public init(name: String = "model-activity") {
        self.name = name
    }

    enum Action: String, Sendable {
        case join
        case leave
    }

    public var handlers: RoomsHandlers {
        RoomsHandlers { app in
            app.namespace("/") { main in
                main.on(Action.join.rawValue) { socket, message in
                    try await Self.handle(.join, socket: socket, message: message)
                }
                main.on(Action.leave.rawValue) { socket, message in
                    try await Self.handle(.leave, socket: socket, message: message)
                }
            }
        }
    }

    static func handle(_ action: Action, socket: RoomsSocket, message: RoomsMessage) async throws {
        // The first argument, as the product reads `(data) => …`; data that is not JSON
        // (never from the edge) counts as none.
        let data = ((try? message.arguments) ?? []).first ?? .null
        switch try await Self.room(for: action, data: data, socket: socket) {
        case .success(let room):
            switch action {
            case .join: socket.join(room)
            case .leave: socket.leave(room)
            }
            let success: JSON = ["event": "success", "data": ["action": .string(action.rawValue), "data": data]]
            try socket.emit("message", success)
        case .failure(let error):
            try socket.emit("error", error.payload(action: action.rawValue, data: data))
        }
    }

    /// The name of the room `data` names for `action`, or why the socket may not have it.
    static func room(
        for action: Action, data: JSON, socket: RoomsSocket
    ) async throws -> Result<String, ModelActivityError> {
        guard let user = socket.user else { return .failure(.notLoggedIn) }
        let room: ModelActivityRoom
        switch ModelActivityRoom.parse(data) {
        case .success(let parsed): room = parsed
        case .failure(let error): return .failure(error)
        }
        if case .model(let model) = room {
            let access = ModelActivityAccess(store: socket.context.store)
            switch action {
            case .join:
                if let refusal = try await access.refusal(user: user, model: model) { return .failure(refusal) }
            case .leave:
                // Leaving needs no access (it may just have been withdrawn), only a model.
                guard try await access.exists(model) else { return .failure(.modelNotFound) }
            }
        }
        return .success(room.name(user: user))
    }
}
