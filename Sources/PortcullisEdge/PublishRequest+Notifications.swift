import PortcullisBus

/// The notification endpoints of the "shared" product's REST API, as its backends call
/// them: `POST /emit/:userId/:event` and `POST /emit/:event` (answered with
/// `{"success":true,"message":"SUCCESS"}`). Each event is one argument sent to the route's
/// namespace, for each user to the per-user room or to every connection of the user.
extension PublishRequest {
    /// The most user ids one `POST /emit/:event` may name (a platform-wide announcement
    /// names every active user).
    static let maximumUsers = 10_000

    /// `POST /emit/:userId/:event`: the whole body, any JSON value, is the event's argument;
    /// an empty body is `{}`, as express's `req.body` is.
    func emit(event: String, toUser user: String, body: [UInt8], route: EmitRoute) throws(PublishError) -> Envelope {
        try Self.checkEvent(event, route: route)
        let data = body.allSatisfy(Self.isJSONWhitespace) ? "{}" : try Self.document(body).text
        return envelope(event: event, user: user, data: data, route: route)
    }

    /// `POST /emit/:event` with `{"userIds": …, "data": …}`: `data` (absent: `null`) to each
    /// user once. `userIds` is an array of ids, a string holding such an array as JSON
    /// (`"[\"a\",\"b\"]"`), or one id; ids are strings or integers. Other members are
    /// ignored, as the product's express handler ignores them.
    func emit(event: String, body: [UInt8], route: EmitRoute) throws(PublishError) -> [Envelope] {
        try Self.checkEvent(event, route: route)
        let value = try Self.document(body)
        guard value.kind == .object else {
            throw .invalid("body: expected a JSON object with userIds and data, got \(value.kind.rawValue)")
        }
        let fields = try Self.object(value, at: "body")
        let users = try Self.userIDs(fields)
        let data = fields["data"]?.text ?? "null"
        return users.map { envelope(event: event, user: $0, data: data, route: route) }
    }

    private func envelope(event: String, user: String, data: String, route: EmitRoute) -> Envelope {
        Envelope(
            id: makeID(), kind: .emit, app: route.app, namespace: route.namespace,
            target: route.target(forUser: user), event: event, data: .json(data), timestamp: now)
    }

    private static func checkEvent(_ event: String, route: EmitRoute) throws(PublishError) {
        if route.isSocketIO, EmitRoute.reservedSocketIOEvents.contains(event) {
            throw .invalid("event: \(quoted(event)) is reserved by Socket.IO and cannot be emitted")
        }
    }

    /// The distinct user ids of `userIds`, in order.
    private static func userIDs(_ fields: Fields) throws(PublishError) -> [String] {
        guard let value = fields["userIds"] else { throw .invalid("body.userIds: required") }
        var list = value
        if let text = value.string, text.contains("[") {
            guard let parsed = try? JSONText.parse(Array(text.utf8)), parsed.kind == .array else {
                throw .invalid("body.userIds: a string holding [ must be a JSON array of user ids")
            }
            list = parsed
        }
        let items: [(place: String, value: JSONText)]
        if list.kind == .array {
            items = list.elements.enumerated().map { ("body.userIds[\($0.offset)]", $0.element) }
        } else {
            items = [("body.userIds", list)]
        }
        guard items.count <= maximumUsers else {
            throw .invalid("body.userIds: \(items.count) user ids in one request, at most \(maximumUsers)")
        }
        var seen: Set<String> = []
        var users: [String] = []
        for (place, item) in items {
            guard let id = item.integerText ?? item.string else {
                throw .invalid("\(place): expected a user id (a string or an integer), got \(item.kind.rawValue)")
            }
            guard !id.isEmpty else { throw .invalid("\(place): must not be empty") }
            if seen.insert(id).inserted { users.append(id) }
        }
        return users
    }

    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
