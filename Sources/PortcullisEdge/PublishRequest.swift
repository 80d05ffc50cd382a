import PortcullisBus

/// Reads the bodies of the publish API's endpoints into outbound envelopes
/// (`docs/publish.md`), with no IO: envelope ids and the timestamp are handed in.
///
/// Everything is checked before anything is returned, so one bad message refuses the
/// whole request (400, the message naming its index and field) and nothing is published.
/// Users, rooms and connections are not looked up: they may simply be offline, and an
/// envelope nobody holds is dropped by every edge.
struct PublishRequest {
    /// The most messages one request may carry (`/publish`, `/_broadcast`).
    static let maximumMessages = 1000

    /// Makes each envelope's `id` (random in the edge, counted in tests).
    let makeID: () -> String
    /// Every envelope's `ts`, in ms since the Unix epoch.
    let now: Int64

    /// `POST /publish`: one message object, or an array of at most ``maximumMessages``
    /// (a single object is `messages[0]` in errors).
    ///
    /// | field    | type                                   | meaning |
    /// |----------|----------------------------------------|---------|
    /// | `kind`   | `emit` (default), `join`, `leave`, `disconnect` | what the targeted connections get |
    /// | `to`     | `conn`, `user`, `room`, `jti`, `all`   | required |
    /// | `target` | string (or integer)                    | required unless `to` is `all` |
    /// | `event`  | string                                 | emit only |
    /// | `data`   | any JSON, forwarded as written         | emit only; one argument |
    /// | `args`   | JSON array, forwarded as written       | emit only; the argument list (`args` flag) |
    /// | `except` | connection id                          | left out |
    /// | `app`    | app name                               | only that app's connections |
    /// | `ns`     | string                                 | Socket.IO namespace or ActionCable identifier |
    /// | `room`   | string                                 | join and leave: required |
    /// | `reason` | string                                 | disconnect only |
    func messages(_ body: [UInt8]) throws(PublishError) -> [Envelope] {
        let items = try Self.list(body, of: "messages")
        var envelopes: [Envelope] = []
        envelopes.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            envelopes.append(try message(item, at: "messages[\(index)]"))
        }
        return envelopes
    }

    private static let messageFields = [
        "kind", "to", "target", "event", "data", "args", "except", "app", "ns", "room", "reason",
    ]

    private func message(_ value: JSONText, at place: String) throws(PublishError) -> Envelope {
        let fields = try Self.object(value, at: place, allowed: Self.messageFields)
        let kindName = try fields.string("kind") ?? "emit"
        let kinds: [Envelope.Kind] = [.emit, .join, .leave, .disconnect]
        guard let kind = kinds.first(where: { $0.rawValue == kindName }) else {
            throw .invalid("\(place).kind: expected emit, join, leave or disconnect, got \(Self.quoted(kindName))")
        }
        var envelope = Envelope(
            id: makeID(), kind: kind, app: try fields.app("app"), namespace: try fields.string("ns"),
            target: try Self.target(fields, at: place), except: try fields.connection("except"),
            timestamp: now)
        switch kind {
        case .emit:
            envelope.event = try fields.string("event")
            if fields["data"] != nil, fields["args"] != nil {
                throw .invalid("\(place).args: give data (one argument) or args (the argument list), not both")
            }
            // `null` is a value worth sending here, not an absent field.
            if let data = fields.members["data"] {
                envelope.data = .json(data.text)
            } else if let arguments = fields["args"] {
                guard arguments.kind == .array else {
                    throw .invalid("\(place).args: expected a JSON array of arguments, got \(arguments.kind.rawValue)")
                }
                envelope.data = .json(arguments.text)
                envelope.arguments = true
            }
            try fields.refuse(["room"], unless: "kind join or leave")
            try fields.refuse(["reason"], unless: "kind disconnect")
        case .join, .leave:
            guard let room = try fields.string("room") else {
                throw .invalid("\(place).room: required with kind \(kind)")
            }
            envelope.room = room
            try fields.refuse(["event", "data", "args"], unless: "kind emit")
            try fields.refuse(["reason"], unless: "kind disconnect")
        default:
            envelope.reason = try fields.string("reason")
            try fields.refuse(["event", "data", "args"], unless: "kind emit")
            try fields.refuse(["room"], unless: "kind join or leave")
        }
        return envelope
    }

    private static let scopes = ["conn", "user", "room", "jti", "all"]

    private static func target(_ fields: Fields, at place: String) throws(PublishError) -> Envelope.Target {
        guard let scope = try fields.string("to") else {
            throw .invalid("\(place).to: required (one of \(scopes.joined(separator: ", ")))")
        }
        guard scopes.contains(scope) else {
            throw .invalid("\(place).to: expected one of \(scopes.joined(separator: ", ")), got \(quoted(scope))")
        }
        if scope == "all" {
            try fields.refuse(["target"], unless: #"a "to" other than all"#)
            return .all
        }
        if scope == "conn" {
            guard let connection = try fields.connection("target") else {
                throw .invalid("\(place).target: required with to conn")
            }
            return .connection(connection)
        }
        guard let target = try fields.identifier("target") else {
            throw .invalid("\(place).target: required with to \(scope)")
        }
        switch scope {
        case "user": return .user(target)
        case "room": return .room(target)
        default: return .token(target)
        }
    }

    // MARK: Reading bodies

    /// The body as a list: the elements of an array (at most ``maximumMessages``), or the
    /// one object it holds.
    static func list(_ body: [UInt8], of name: String) throws(PublishError) -> [JSONText] {
        let value = try document(body)
        switch value.kind {
        case .array:
            let items = value.elements
            guard items.count <= maximumMessages else {
                throw .invalid("body: \(items.count) \(name) in one request, at most \(maximumMessages)")
            }
            return items
        case .object:
            return [value]
        default:
            throw .invalid("body: expected a JSON object or an array of them, got \(value.kind.rawValue)")
        }
    }

    /// The one JSON value of a body.
    static func document(_ body: [UInt8]) throws(PublishError) -> JSONText {
        do throws(JSONText.Malformed) {
            return try JSONText.parse(body)
        } catch {
            throw .invalid("body: \(error.message)")
        }
    }

    /// The members of the object `value` by name, refusing duplicates and, when `allowed`
    /// is given, names outside it.
    static func object(_ value: JSONText, at place: String, allowed: [String]? = nil) throws(PublishError) -> Fields {
        guard value.kind == .object else {
            throw .invalid("\(place): expected a JSON object, got \(value.kind.rawValue)")
        }
        var members: [String: JSONText] = [:]
        for (key, member) in value.members {
            guard members[key] == nil else { throw .invalid("\(place).\(key): given twice") }
            if let allowed, !allowed.contains(key) {
                throw .invalid("\(place).\(key): unknown field (known: \(allowed.joined(separator: ", ")))")
            }
            members[key] = member
        }
        return Fields(place: place, members: members)
    }

    static func quoted(_ text: String) -> String {
        JSONStringLiteral.quoted(text.count > 60 ? String(text.prefix(57)) + "..." : text)
    }

    /// The members of one object of a body, with typed getters whose errors name the
    /// field (`messages[2].target: …`). Absent and `null` members read as nil.
    struct Fields {
        let place: String
        let members: [String: JSONText]

        subscript(_ name: String) -> JSONText? {
            guard let value = members[name], value.kind != .null else { return nil }
            return value
        }

        /// A non-empty string.
        func string(_ name: String) throws(PublishError) -> String? {
            guard let value = self[name] else { return nil }
            guard let text = value.string else {
                throw .invalid("\(place).\(name): expected a string, got \(value.kind.rawValue)")
            }
            guard !text.isEmpty else { throw .invalid("\(place).\(name): must not be empty") }
            return text
        }

        /// A user id, room name or token id: a non-empty string, or an integer as written.
        func identifier(_ name: String) throws(PublishError) -> String? {
            guard let value = self[name] else { return nil }
            if let text = value.integerText { return text }
            return try string(name)
        }

        /// A connection id, `<edge id>.<local part>`.
        func connection(_ name: String) throws(PublishError) -> String? {
            guard let text = try string(name) else { return nil }
            guard StreamNames.edgeID(ofConnection: text) != nil else {
                throw .invalid(
                    "\(place).\(name): expected a connection id <edge id>.<local part>, got \(PublishRequest.quoted(text))"
                )
            }
            return text
        }

        /// An app name (1–64 of `A-Z a-z 0-9 _ -`).
        func app(_ name: String) throws(PublishError) -> String? {
            guard let text = try string(name) else { return nil }
            guard StreamNames.isValidApp(text) else {
                throw .invalid(
                    "\(place).\(name): expected an app name (1 to 64 of A-Z a-z 0-9 _ -), got \(PublishRequest.quoted(text))"
                )
            }
            return text
        }

        /// Fails when any of `names` is present: they only mean something with `condition`.
        func refuse(_ names: [String], unless condition: String) throws(PublishError) {
            if let name = names.first(where: { self[$0] != nil }) {
                throw .invalid("\(place).\(name): only with \(condition)")
            }
        }
    }
}
