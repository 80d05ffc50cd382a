extension SocketAction {
    /// The connections the notification endpoints of the publish API reach
    /// (`POST /emit/:userId/:event`, `POST /emit/:event`; `socket.emit_endpoints:`): one
    /// socket route's, in its app and namespace, addressed by user or by a per-user room.
    ///
    /// Products whose clients must opt in before they get events (a `join` that puts the
    /// socket in `shared:user:<id>`) set `room`; otherwise every connection of the user in
    /// the namespace gets them.
    public struct EmitEndpoints: Sendable, Hashable {
        /// What stands for the user id in ``room``.
        public static let userPlaceholder = "{user}"

        /// A room name with ``userPlaceholder`` (`shared:user:{user}`); nil: emits target the user.
        public var room: String?
        /// The Socket.IO namespace the events are sent in; nil on raw routes.
        public var namespace: String?
        public var location: SourceLocation

        public init(room: String? = nil, namespace: String? = nil, location: SourceLocation) {
            self.room = room
            self.namespace = namespace
            self.location = location
        }

        /// The room the events for `user` go to, when a room is configured.
        public func room(forUser user: String) -> String? {
            room?.replacing(Self.userPlaceholder, with: user)
        }

        /// Decodes `socket.emit_endpoints:` of a route whose other socket keys are decoded.
        ///
        /// | Key         | Type                                       | Default |
        /// |-------------|--------------------------------------------|---------|
        /// | `room`      | room name containing `{user}`              | none: target the user |
        /// | `namespace` | one of the route's Socket.IO namespaces    | the route's only namespace |
        ///
        /// ActionCable routes have no events to emit (backends broadcast to their streams
        /// with `POST /_broadcast`), so the key is refused there.
        static func decode(_ reader: ConfigReader, socket: SocketAction) -> EmitEndpoints? {
            reader.mapping { mapping -> EmitEndpoints? in
                var endpoints = EmitEndpoints(location: reader.location)
                if let room = mapping.optional("room"), let template = room.string() {
                    let rest = template.replacing(userPlaceholder, with: "")
                    if !template.contains(userPlaceholder) {
                        room.fail("must contain \(userPlaceholder), which each request's user id replaces")
                    } else if rest.contains("{") || rest.contains("}") {
                        room.fail("\(userPlaceholder) is the only placeholder, got \(room.quoted(template))")
                    } else {
                        endpoints.room = template
                    }
                }
                let namespace = mapping.optional("namespace")
                switch socket.wireProtocol {
                case .actioncable:
                    reader.fail(
                        "ActionCable has no events to emit: backends broadcast to its streams with POST /_broadcast")
                    return nil
                case .raw:
                    namespace?.fail("only with protocol: socketio")
                case .socketio:
                    let allowed = socket.socketIO?.namespaces ?? ["/"]
                    if let namespace, let name = namespace.string() {
                        if name.hasPrefix("/"), allowed.contains(name) || allowed.contains("*") {
                            endpoints.namespace = name
                        } else {
                            namespace.fail(
                                "must be one of the route's namespaces (\(allowed.joined(separator: ", "))), "
                                    + "got \(namespace.quoted(name))")
                        }
                    } else if namespace == nil {
                        if allowed.count == 1, let only = allowed.first, only != "*" {
                            endpoints.namespace = only
                        } else {
                            reader.fail(
                                "give namespace: the route allows \(allowed.joined(separator: ", ")), "
                                    + "so which one the events go to must be said")
                        }
                    }
                }
                return endpoints
            } ?? nil
        }
    }
}
