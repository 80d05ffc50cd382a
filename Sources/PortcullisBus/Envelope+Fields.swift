import NIOCore

/// The wire form: an ordered flat field list, as XADD stores it and XREAD returns it.
///
/// | field      | type                         | when                                   |
/// |------------|------------------------------|----------------------------------------|
/// | `v`        | decimal, `1`                 | always                                 |
/// | `id`       | text, 1…128 bytes            | always                                 |
/// | `kind`     | text                         | always                                 |
/// | `app`      | text                         | optional                               |
/// | `edge`     | text                         | optional                               |
/// | `conn`     | text                         | optional                               |
/// | `user`     | text                         | optional                               |
/// | `ns`       | text                         | optional                               |
/// | `to`       | `conn`, `user`, `room`, `jti`, `all` | outbound                       |
/// | `target`   | text                         | with `to` other than `all`             |
/// | `except`   | text (connection id)         | optional, outbound                     |
/// | `room`     | text                         | `join`, `leave`                        |
/// | `event`    | text                         | optional                               |
/// | `ack`      | decimal                      | optional                               |
/// | `reason`   | text                         | optional                               |
/// | `claims`   | JSON text                    | optional                               |
/// | `args`     | `1`                          | when `data` is an argument list        |
/// | `dataType` | `json`, `text`, `binary`     | with `data` when not `json`            |
/// | `data`     | bytes                        | optional                               |
/// | `att:<i>`  | bytes, `i` in 0…9            | binary attachments, `att:0` first      |
/// | `ts`       | decimal, ms since the epoch  | optional                               |
///
/// Encoding writes present fields in this order. Decoding accepts any order, ignores fields
/// it does not know (a newer publisher may add some) and rejects duplicates.
extension Envelope {
    /// Every field name this version writes, in the order ``fields`` writes them.
    public static let fieldOrder: [String] = [
        "v", "id", "kind", "app", "edge", "conn", "user", "ns", "to", "target", "except", "room",
        "event", "ack", "reason", "claims", "args", "dataType", "data", "att:<i>", "ts",
    ]

    /// The most attachments an envelope carries (Socket.IO's default `maxAttachments`).
    public static let maximumAttachments = 10

    /// The longest `id` accepted, in bytes.
    public static let maximumIDLength = 128

    /// The field list for XADD: present fields only, in ``fieldOrder``.
    public var fields: [(String, RedisArgument)] {
        var fields: [(String, RedisArgument)] = []
        fields.reserveCapacity(10)
        fields.append(("v", RedisArgument(Self.version)))
        fields.append(("id", RedisArgument(self.id)))
        fields.append(("kind", RedisArgument(self.kind.rawValue)))
        func add(_ name: String, _ value: String?) {
            if let value { fields.append((name, RedisArgument(value))) }
        }
        add("app", self.app)
        add("edge", self.edge)
        add("conn", self.connection)
        add("user", self.user)
        add("ns", self.namespace)
        if let target = self.target {
            add("to", target.scope)
            add("target", target.value)
        }
        add("except", self.except)
        add("room", self.room)
        add("event", self.event)
        add("ack", self.ack.map { String($0) })
        add("reason", self.reason)
        add("claims", self.claims)
        if self.arguments { add("args", "1") }
        if let data = self.data {
            if data.type != .json {
                add("dataType", data.type.rawValue)
            }
            fields.append(("data", RedisArgument(data.bytes)))
        }
        for (index, attachment) in self.attachments.enumerated() {
            fields.append(("att:\(index)", RedisArgument(attachment)))
        }
        add("ts", self.timestamp.map { String($0) })
        return fields
    }

    /// Decodes a stream entry read with XREAD, XREADGROUP, XRANGE or XAUTOCLAIM.
    ///
    /// - Throws: ``EnvelopeError``; ``EnvelopeError/Code/deletedEntry`` for a pending entry
    ///   whose data is gone (acknowledge it and move on).
    public init(entry: StreamEntry) throws(EnvelopeError) {
        guard let fields = entry.fields else {
            throw EnvelopeError(code: .deletedEntry, field: nil, message: "entry \(entry.id) was deleted")
        }
        try self.init(fields: fields)
    }

    /// Decodes a field list in any order; see the table above for what is required.
    public init(fields: [(name: String, value: ByteBuffer)]) throws(EnvelopeError) {
        var wire = WireFields()
        for field in fields {
            try wire.store(field.value, as: field.name)
        }

        guard let version = wire.version else { throw .missing("v") }
        guard Self.parseDecimal(version) == Int64(Self.version) else {
            throw EnvelopeError(
                code: .unsupportedVersion,
                field: "v",
                message: "version \(Self.excerpt(version)) is not supported (this code reads \(Self.version))"
            )
        }
        guard let id = wire.id else { throw .missing("id") }
        guard id.readableBytes > 0, id.readableBytes <= Self.maximumIDLength else {
            throw .invalid("id", "must be 1…\(Self.maximumIDLength) bytes, got \(id.readableBytes)")
        }
        guard let kind = wire.kind else { throw .missing("kind") }
        guard kind.readableBytes > 0 else { throw .invalid("kind", "must not be empty") }

        self.init(id: String(buffer: id), kind: Kind(rawValue: String(buffer: kind)))
        self.app = wire.app.map { String(buffer: $0) }
        self.edge = wire.edge.map { String(buffer: $0) }
        self.connection = wire.conn.map { String(buffer: $0) }
        self.user = wire.user.map { String(buffer: $0) }
        self.namespace = wire.ns.map { String(buffer: $0) }
        self.target = try Self.decodeTarget(to: wire.to, target: wire.target)
        self.except = wire.except.map { String(buffer: $0) }
        self.room = wire.room.map { String(buffer: $0) }
        self.event = wire.event.map { String(buffer: $0) }
        self.reason = wire.reason.map { String(buffer: $0) }
        self.claims = wire.claims.map { String(buffer: $0) }
        if let ack = wire.ack {
            guard let value = Self.parseDecimal(ack) else {
                throw .invalid("ack", "expected a non-negative decimal integer")
            }
            self.ack = Int(value)
        }
        if let timestamp = wire.ts {
            guard let value = Self.parseDecimal(timestamp) else {
                throw .invalid("ts", "expected milliseconds since the epoch as a decimal integer")
            }
            self.timestamp = value
        }
        var type = DataType.json
        if let dataType = wire.dataType {
            guard let parsed = DataType(rawValue: String(buffer: dataType)) else {
                throw .invalid("dataType", "expected json, text or binary, got \(Self.excerpt(dataType))")
            }
            type = parsed
        }
        self.data = wire.data.map { Payload(bytes: $0, type: type) }
        if let args = wire.args {
            guard args.readableBytesView.elementsEqual("1".utf8) else { throw .invalid("args", "expected 1") }
            self.arguments = true
        }
        for index in wire.attachments.indices {
            guard let attachment = wire.attachments[index] else {
                throw .missing("att:\(index)")
            }
            self.attachments.append(attachment)
        }
    }

    private static func decodeTarget(to: ByteBuffer?, target: ByteBuffer?) throws(EnvelopeError) -> Target? {
        guard let to else {
            if target != nil { throw .missing("to") }
            return nil
        }
        let scope = String(buffer: to)
        if scope == "all" { return .all }
        let make: (String) -> Target
        switch scope {
        case "conn": make = Target.connection
        case "user": make = Target.user
        case "room": make = Target.room
        case "jti": make = Target.token
        default: throw .invalid("to", "expected conn, user, room, jti or all, got \(Self.excerpt(to))")
        }
        guard let target else { throw .missing("target") }
        return make(String(buffer: target))
    }

    /// Strict non-negative decimal: digits only, no sign or spaces, fits in Int64.
    private static func parseDecimal(_ buffer: ByteBuffer) -> Int64? {
        let digits = buffer.readableBytesView
        guard !digits.isEmpty, digits.count <= 19 else { return nil }
        var value: Int64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    /// A short, printable quote of a bad value for an error message.
    private static func excerpt(_ buffer: ByteBuffer) -> String {
        let text = String(buffer: buffer)
        let short = text.count > 32 ? text.prefix(32) + "…" : Substring(text)
        return "\"" + short.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : "?" }.joined() + "\""
    }
}

/// The raw value of each known field while decoding, so that one pass finds duplicates.
private struct WireFields {
    var version, id, kind, app, edge, conn, user, ns, to, target, except, room: ByteBuffer?
    var event, ack, reason, claims, args, dataType, data, ts: ByteBuffer?
    /// `att:<i>` by index; a gap is an error once all fields are read.
    var attachments: [ByteBuffer?] = []

    mutating func store(_ value: ByteBuffer, as name: String) throws(EnvelopeError) {
        switch name {
        case "v": try Self.set(&self.version, value, name)
        case "id": try Self.set(&self.id, value, name)
        case "kind": try Self.set(&self.kind, value, name)
        case "app": try Self.set(&self.app, value, name)
        case "edge": try Self.set(&self.edge, value, name)
        case "conn": try Self.set(&self.conn, value, name)
        case "user": try Self.set(&self.user, value, name)
        case "ns": try Self.set(&self.ns, value, name)
        case "to": try Self.set(&self.to, value, name)
        case "target": try Self.set(&self.target, value, name)
        case "except": try Self.set(&self.except, value, name)
        case "room": try Self.set(&self.room, value, name)
        case "event": try Self.set(&self.event, value, name)
        case "ack": try Self.set(&self.ack, value, name)
        case "reason": try Self.set(&self.reason, value, name)
        case "claims": try Self.set(&self.claims, value, name)
        case "dataType": try Self.set(&self.dataType, value, name)
        case "data": try Self.set(&self.data, value, name)
        case "ts": try Self.set(&self.ts, value, name)
        case "args": try Self.set(&self.args, value, name)
        default:
            if name.hasPrefix("att:") {
                try self.storeAttachment(value, name: name)
            }
        // Any other field is from a newer publisher.
        }
    }

    private mutating func storeAttachment(_ value: ByteBuffer, name: String) throws(EnvelopeError) {
        let digits = name.utf8.dropFirst(4)
        guard digits.count == 1, let digit = digits.first, digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9")
        else {
            throw EnvelopeError(
                code: .invalidValue, field: name, message: "attachment fields are att:0 … att:9")
        }
        let index = Int(digit - UInt8(ascii: "0"))
        if self.attachments.count <= index {
            self.attachments += Array(repeating: nil, count: index + 1 - self.attachments.count)
        }
        guard self.attachments[index] == nil else {
            throw EnvelopeError(code: .duplicateField, field: name, message: "field \(name) appears more than once")
        }
        self.attachments[index] = value
    }

    private static func set(_ slot: inout ByteBuffer?, _ value: ByteBuffer, _ name: String) throws(EnvelopeError) {
        guard slot == nil else {
            throw EnvelopeError(code: .duplicateField, field: name, message: "field \(name) appears more than once")
        }
        slot = value
    }
}

extension RedisCommandSender {
    /// Appends `envelope` to `stream` (XADD with its ``Envelope/fields``) → the entry's id.
    @discardableResult
    public func xadd(_ stream: StreamName, trim: StreamTrim? = nil, envelope: Envelope) async throws -> StreamID {
        try await self.xadd(stream, trim: trim, fields: envelope.fields)
    }
}
