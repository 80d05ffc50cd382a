/// One Socket.IO v5 packet, in the text form of the default parser:
/// `<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]`, carried in an
/// Engine.IO `message` (so `42["chat","hi"]` on the wire).
///
/// The Socket.IO session machine (a later step) decodes client packets with
/// ``decode(_:maxAttachments:)`` (through ``SocketIOBinaryAssembler`` so attachments are
/// gathered) and builds its own with the factories below. Pure and I/O-free.
///
/// Invariants:
/// - The payload is the exact JSON text that was received or given, never re-serialised
///   (like `data` in ``RawProtocolSession``): number precision, key order and escapes
///   survive the hop. ``arguments`` are slices of it.
/// - A decoded packet's payload has the shape its type requires (checked as the reference
///   decoder checks it; see ``decode(_:maxAttachments:)``).
/// - ``attachmentCount`` is 0 unless the type is binary; ``attachments`` is empty until the
///   assembler (inbound) or a binary factory (outbound) fills it with exactly
///   ``attachmentCount`` byte arrays, in placeholder-number order.
public struct SocketIOPacket: Hashable, Sendable {
    /// The packet types of protocol v5; the raw value is the digit on the wire.
    public enum PacketType: UInt8, Hashable, Sendable, CaseIterable {
        /// Client: join a namespace (payload: the `auth` object, optional). Server: joined
        /// (payload `{"sid":…}`).
        case connect = 0
        /// Leave a namespace; no payload.
        case disconnect = 1
        /// `["name", args…]`, optionally with an ack id.
        case event = 2
        /// `[args…]` answering the event with the same ack id.
        case ack = 3
        /// Server: joining refused (payload `{"message":…,"data":…}`).
        case connectError = 4
        /// An event whose arguments hold binary values, sent as placeholders + attachments.
        case binaryEvent = 5
        /// An ack whose arguments hold binary values.
        case binaryAck = 6

        /// True for the two types followed by attachments.
        public var isBinary: Bool {
            self == .binaryEvent || self == .binaryAck
        }
    }

    /// Event names no peer may send (the reference `RESERVED_EVENTS`); a client event with
    /// one of them is refused, and the session must not emit one.
    public static let reservedEventNames: Set<String> = [
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    ]

    /// The largest ack id a JavaScript peer holds exactly (`Number.MAX_SAFE_INTEGER`).
    public static let maxAckID = (1 << 53) - 1

    public let type: PacketType
    public let namespace: SocketIONamespace
    /// Present when the sender wants an ack (events) or answers one (acks).
    public let ackID: Int?
    /// How many binary frames follow (binary types only).
    public let attachmentCount: Int
    /// The JSON text after the header, exactly as sent; nil when there is none.
    public let payload: Substring?
    /// The event name (first array element) of an event or binary event.
    public let eventName: String?
    /// Byte offsets in ``payload`` of each argument: after the name for events, every
    /// element for acks. Offsets rather than indices so equal texts compare equal.
    private let argumentOffsets: [Range<Int>]
    /// The binary attachments, once gathered.
    public let attachments: [[UInt8]]

    init(
        type: PacketType,
        namespace: SocketIONamespace,
        ackID: Int?,
        attachmentCount: Int,
        payload: Substring?,
        eventName: String?,
        argumentOffsets: [Range<Int>],
        attachments: [[UInt8]] = []
    ) {
        self.type = type
        self.namespace = namespace
        self.ackID = ackID
        self.attachmentCount = attachmentCount
        self.payload = payload
        self.eventName = eventName
        self.argumentOffsets = argumentOffsets
        self.attachments = attachments
    }

    /// The arguments of an event or ack as raw JSON texts (slices of ``payload``); empty for
    /// the other types. Binary values are still their placeholders.
    public var arguments: [Substring] {
        guard let payload = self.payload else { return [] }
        let base = payload.utf8.startIndex
        return self.argumentOffsets.map { offsets in
            let start = payload.utf8.index(base, offsetBy: offsets.lowerBound)
            let end = payload.utf8.index(base, offsetBy: offsets.upperBound)
            return payload[start..<end]
        }
    }

    /// The same packet with its attachments; the assembler's last step.
    func withAttachments(_ attachments: [[UInt8]]) -> SocketIOPacket {
        SocketIOPacket(
            type: self.type, namespace: self.namespace, ackID: self.ackID, attachmentCount: self.attachmentCount,
            payload: self.payload, eventName: self.eventName, argumentOffsets: self.argumentOffsets,
            attachments: attachments)
    }

    // MARK: Outbound packets

    /// CONNECT. From a client, `payload` is its `auth` object; from the server, `{"sid":…}`.
    /// `payload` must be JSON object text; it is written as given.
    public static func connect(namespace: SocketIONamespace = .main, payload: String? = nil) -> SocketIOPacket {
        SocketIOPacket(
            type: .connect, namespace: namespace, ackID: nil, attachmentCount: 0, payload: payload?[...],
            eventName: nil, argumentOffsets: [])
    }

    /// DISCONNECT: `1` or `1/admin,`.
    public static func disconnect(namespace: SocketIONamespace = .main) -> SocketIOPacket {
        SocketIOPacket(
            type: .disconnect, namespace: namespace, ackID: nil, attachmentCount: 0, payload: nil, eventName: nil,
            argumentOffsets: [])
    }

    /// CONNECT_ERROR with `payload` as given (JSON object text, e.g. `{"message":"Not authorized"}`).
    public static func connectError(namespace: SocketIONamespace = .main, payload: String) -> SocketIOPacket {
        SocketIOPacket(
            type: .connectError, namespace: namespace, ackID: nil, attachmentCount: 0, payload: payload[...],
            eventName: nil, argumentOffsets: [])
    }

    /// CONNECT_ERROR `{"message":…}`, plus `"data":…` (JSON text) when given, as the JS
    /// server reports middleware errors and JS clients read them (`err.message`, `err.data`).
    public static func connectError(
        namespace: SocketIONamespace = .main, message: String, data: String? = nil
    ) -> SocketIOPacket {
        var payload = "{\"message\":"
        JSONString.encode(message, into: &payload)
        if let data { payload += ",\"data\":" + data }
        payload += "}"
        return .connectError(namespace: namespace, payload: payload)
    }

    /// EVENT `["name",arg…]`. Each argument must be JSON text; it is written as given (the
    /// publisher owns its validity, as with ``RawProtocolSession/outboundEvent(_:data:)``).
    /// The name should not be one of ``reservedEventNames``, which clients refuse; `ackID`
    /// must be in `0...maxAckID` (anything else is a programming error and traps).
    public static func event(
        _ name: String, arguments: [String], namespace: SocketIONamespace = .main, ackID: Int? = nil
    ) -> SocketIOPacket {
        precondition(ackID.map { (0...maxAckID).contains($0) } ?? true, "ack id out of range")
        var payload = "["
        JSONString.encode(name, into: &payload)
        let offsets = self.appendArguments(arguments, to: &payload, leadingComma: true)
        return SocketIOPacket(
            type: .event, namespace: namespace, ackID: ackID, attachmentCount: 0, payload: payload[...],
            eventName: name, argumentOffsets: offsets)
    }

    /// ACK `[arg…]` for the event that carried `id` (in `0...maxAckID`). Arguments are JSON
    /// text, written as given.
    public static func ack(id: Int, arguments: [String], namespace: SocketIONamespace = .main) -> SocketIOPacket {
        precondition((0...maxAckID).contains(id), "ack id out of range")
        var payload = "["
        let offsets = self.appendArguments(arguments, to: &payload, leadingComma: false)
        return SocketIOPacket(
            type: .ack, namespace: namespace, ackID: id, attachmentCount: 0, payload: payload[...], eventName: nil,
            argumentOffsets: offsets)
    }

    /// A binary event or ack (`type` is ``PacketType/binaryEvent`` or
    /// ``PacketType/binaryAck``) to send: `payload` is the JSON array with a
    /// `{"_placeholder":true,"num":i}` where each binary value goes, `attachments[i]` the
    /// bytes of placeholder `i`. The payload is checked as a received one would be (JSON,
    /// shape, every placeholder naming an attachment), so a client never closes on what we
    /// send; ``webSocketFrames`` then gives the header text and the binary frames.
    public static func binary(
        _ type: PacketType,
        payload: String,
        attachments: [[UInt8]],
        namespace: SocketIONamespace = .main,
        ackID: Int? = nil
    ) throws(SocketIOPacketError) -> SocketIOPacket {
        precondition(type.isBinary, "binary packets are binaryEvent or binaryAck")
        precondition(ackID.map { (0...maxAckID).contains($0) } ?? true, "ack id out of range")
        var text = ""
        self.appendHeader(
            type: type, attachmentCount: attachments.count, namespace: namespace, ackID: ackID, to: &text)
        let headerLength = text.utf8.count
        text += payload
        let decoded = try self.decode(text, maxAttachments: attachments.count)
        guard decoded.payload?.utf8.count == text.utf8.count - headerLength else {
            // The payload began with a digit or `/`, which a decoder would read as header.
            throw SocketIOPacketError(code: .invalidPayload, message: "payload must be a JSON array")
        }
        return decoded.withAttachments(attachments)
    }

    // MARK: Encoding

    /// Appends the packet text (without the Engine.IO `4`).
    public func encode(into output: inout String) {
        Self.appendHeader(
            type: self.type, attachmentCount: self.attachmentCount, namespace: self.namespace, ackID: self.ackID,
            to: &output)
        if let payload = self.payload { output += payload }
    }

    /// The packet text, e.g. `2/admin,17["chat","hi"]`.
    public var encoded: String {
        var text = ""
        self.encode(into: &text)
        return text
    }

    /// The WebSocket messages that carry this packet: the Engine.IO message `4…` as text,
    /// then each attachment as a binary frame (EIO 4 sends them as they are).
    public var webSocketFrames: [EngineIOPacket.Frame] {
        var text = "4"
        self.encode(into: &text)
        var frames: [EngineIOPacket.Frame] = [.text(text)]
        frames.reserveCapacity(1 + self.attachments.count)
        for attachment in self.attachments {
            frames.append(.binary(attachment))
        }
        return frames
    }

    private static func appendHeader(
        type: PacketType, attachmentCount: Int, namespace: SocketIONamespace, ackID: Int?, to output: inout String
    ) {
        output.unicodeScalars.append(Unicode.Scalar(UInt8(ascii: "0") + type.rawValue))
        if type.isBinary { output += "\(attachmentCount)-" }
        if !namespace.isMain { output += namespace.name + "," }
        if let ackID { output += String(ackID) }
    }

    /// Appends `,arg` (or `arg` first when `leadingComma` is false) for each argument and
    /// the closing `]`; returns each argument's offsets in `payload`.
    private static func appendArguments(
        _ arguments: [String], to payload: inout String, leadingComma: Bool
    ) -> [Range<Int>] {
        var offsets: [Range<Int>] = []
        offsets.reserveCapacity(arguments.count)
        for (index, argument) in arguments.enumerated() {
            if leadingComma || index > 0 { payload += "," }
            let start = payload.utf8.count
            payload += argument
            offsets.append(start..<payload.utf8.count)
        }
        payload += "]"
        return offsets
    }
}
