/// The text decoder: one pass over the packet's UTF-8 with ``JSONScanner`` as the cursor,
/// header first, then the payload validated (and, for events and acks, split into
/// arguments) in the same pass. The only copy is the byte array the scanner reads; the
/// payload and arguments are slices of the caller's text.
extension SocketIOPacket {
    /// The reference decoder's default bound on attachments (`maxAttachments`).
    public static let defaultMaxAttachments = 10

    /// Decodes the text of one Engine.IO `message` (the part after the `4`).
    ///
    /// Follows the reference decoder, more strictly where it is lenient:
    /// - the namespace is read when the character after the type (and attachment count)
    ///   is `/`, up to `,` or the end, so `0/admin` parses like `0/admin,`;
    /// - the ack id is the digits before the payload, at most ``maxAckID``; acks must have
    ///   one, CONNECT, DISCONNECT and CONNECT_ERROR must not (the reference takes both);
    /// - payloads: CONNECT an object or nothing; DISCONNECT nothing; CONNECT_ERROR an object
    ///   or a string; EVENT a non-empty array whose first element is a string that is not
    ///   reserved (the reference also takes a number there; we do not); ACK an array;
    /// - a binary packet's count is `<digits>-`, at most `maxAttachments`, and every
    ///   placeholder in its payload must be an integer `num` below that count.
    ///
    /// A binary packet comes back with empty ``attachments``; the assembler gathers them.
    public static func decode(
        _ text: Substring, maxAttachments: Int = defaultMaxAttachments
    ) throws(SocketIOPacketError) -> SocketIOPacket {
        var scanner = JSONScanner(Array(text.utf8))
        guard let typeByte = scanner.take() else {
            throw SocketIOPacketError(code: .emptyPacket, message: "empty packet")
        }
        guard typeByte >= UInt8(ascii: "0"), let type = PacketType(rawValue: typeByte - UInt8(ascii: "0")) else {
            throw SocketIOPacketError(code: .unknownType, message: "unknown packet type")
        }
        let attachmentCount = type.isBinary ? try self.scanAttachmentCount(&scanner, limit: maxAttachments) : 0
        let namespace = self.scanNamespace(&scanner)
        let ackID = try self.scanAckID(&scanner)
        switch type {
        case .ack, .binaryAck:
            guard ackID != nil else { throw SocketIOPacketError(code: .invalidAckID, message: "ack without an id") }
        case .connect, .disconnect, .connectError:
            guard ackID == nil else {
                throw SocketIOPacketError(code: .invalidAckID, message: "ack id on a packet that takes none")
            }
        case .event, .binaryEvent:
            break
        }
        let payloadStart = scanner.index
        var eventName: String?
        var argumentOffsets: [Range<Int>] = []
        try self.scanPayload(
            &scanner, type: type, placeholders: type.isBinary ? attachmentCount : nil, eventName: &eventName,
            arguments: &argumentOffsets)
        var payload: Substring?
        if payloadStart < scanner.bytes.count {
            payload = text[text.utf8.index(text.utf8.startIndex, offsetBy: payloadStart)...]
        }
        let relativeOffsets = argumentOffsets.map { ($0.lowerBound - payloadStart)..<($0.upperBound - payloadStart) }
        return SocketIOPacket(
            type: type, namespace: namespace, ackID: ackID, attachmentCount: attachmentCount, payload: payload,
            eventName: eventName, argumentOffsets: relativeOffsets)
    }

    public static func decode(
        _ text: String, maxAttachments: Int = defaultMaxAttachments
    ) throws(SocketIOPacketError) -> SocketIOPacket {
        try self.decode(text[...], maxAttachments: maxAttachments)
    }

    /// `<digits>-`, bounded as it is read so a long digit run cannot overflow.
    private static func scanAttachmentCount(
        _ scanner: inout JSONScanner, limit: Int
    ) throws(SocketIOPacketError) -> Int {
        var count = 0
        var digits = 0
        while let digit = scanner.takeDigit() {
            count = count * 10 + digit
            digits += 1
            guard count <= limit else {
                throw SocketIOPacketError(code: .tooManyAttachments, message: "more than \(limit) attachments")
            }
        }
        guard digits > 0, scanner.take() == UInt8(ascii: "-") else {
            throw SocketIOPacketError(code: .invalidAttachmentCount, message: "binary packet without <count>-")
        }
        return count
    }

    private static func scanNamespace(_ scanner: inout JSONScanner) -> SocketIONamespace {
        guard scanner.peek() == UInt8(ascii: "/") else { return .main }
        let start = scanner.index
        while let byte = scanner.peek(), byte != UInt8(ascii: ",") {
            _ = scanner.take()
        }
        let name = String(decoding: scanner.bytes[start..<scanner.index], as: UTF8.self)
        _ = scanner.take()  // the comma, when there is one
        return name == "/" ? .main : SocketIONamespace(unchecked: name)
    }

    private static func scanAckID(_ scanner: inout JSONScanner) throws(SocketIOPacketError) -> Int? {
        var id: Int?
        while let digit = scanner.takeDigit() {
            let value = (id ?? 0) * 10 + digit
            guard value <= self.maxAckID else {
                throw SocketIOPacketError(code: .invalidAckID, message: "ack id above 2^53-1")
            }
            id = value
        }
        return id
    }

    /// Checks the payload's shape for `type` and collects the event name and argument
    /// offsets (absolute, in the scanner's bytes). `placeholders` is the attachment count
    /// of a binary packet, whose placeholders are then checked too.
    private static func scanPayload(
        _ scanner: inout JSONScanner,
        type: PacketType,
        placeholders: Int?,
        eventName: inout String?,
        arguments: inout [Range<Int>]
    ) throws(SocketIOPacketError) {
        if scanner.isAtEnd {
            switch type {
            case .connect, .disconnect: return
            default: throw self.invalid("payload missing")
            }
        }
        scanner.skipWhitespace()
        switch type {
        case .disconnect:
            throw self.invalid("DISCONNECT carries no payload")
        case .connect:
            guard scanner.peek() == UInt8(ascii: "{") else { throw self.invalid("CONNECT payload must be an object") }
            try self.skipValue(&scanner, placeholders: nil)
        case .connectError:
            guard scanner.peek() == UInt8(ascii: "{") || scanner.peek() == UInt8(ascii: "\"") else {
                throw self.invalid("CONNECT_ERROR payload must be an object or a string")
            }
            try self.skipValue(&scanner, placeholders: nil)
        case .event, .binaryEvent, .ack, .binaryAck:
            let isEvent = type == .event || type == .binaryEvent
            try self.scanArray(&scanner) { scanner, index throws(SocketIOPacketError) in
                guard isEvent, index == 0 else {
                    arguments.append(try self.skipValue(&scanner, placeholders: placeholders))
                    return
                }
                guard scanner.peek() == UInt8(ascii: "\"") else { throw self.invalid("event name must be a string") }
                let name = try Self.json { () throws(JSONScanner.Failure) in try scanner.scanString() }
                guard !self.reservedEventNames.contains(name) else {
                    throw SocketIOPacketError(code: .reservedEventName, message: "reserved event name")
                }
                eventName = name
            }
            guard !isEvent || eventName != nil else { throw self.invalid("EVENT payload must not be empty") }
        }
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw self.invalid("trailing data after the payload") }
    }

    /// Walks a JSON array, handing each element (scanner on it, its position) to `element`.
    private static func scanArray(
        _ scanner: inout JSONScanner,
        element: (inout JSONScanner, Int) throws(SocketIOPacketError) -> Void
    ) throws(SocketIOPacketError) {
        guard scanner.take() == UInt8(ascii: "[") else { throw self.invalid("payload must be a JSON array") }
        scanner.skipWhitespace()
        if scanner.peek() == UInt8(ascii: "]") {
            _ = scanner.take()
            return
        }
        var index = 0
        while true {
            scanner.skipWhitespace()
            try element(&scanner, index)
            index += 1
            scanner.skipWhitespace()
            switch scanner.take() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "]"): return
            default: throw self.invalid("expected ',' or ']' in the payload array")
            }
        }
    }

    /// Skips one value, checking its placeholders when `placeholders` is an attachment count.
    @discardableResult
    private static func skipValue(
        _ scanner: inout JSONScanner, placeholders: Int?
    ) throws(SocketIOPacketError) -> Range<Int> {
        guard let placeholders else {
            return try Self.json { () throws(JSONScanner.Failure) in try scanner.skipValue(depth: 1) }
        }
        return try scanner.skipValueCheckingPlaceholders(depth: 1, attachmentCount: placeholders)
    }

    static func invalid(_ message: String) -> SocketIOPacketError {
        SocketIOPacketError(code: .invalidPayload, message: message)
    }

    /// Runs scanner work, turning its failure into ``SocketIOPacketError/Code/invalidPayload``.
    static func json<T>(_ body: () throws(JSONScanner.Failure) -> T) throws(SocketIOPacketError) -> T {
        do {
            return try body()
        } catch {
            throw self.invalid("payload is not JSON: \(error.message)")
        }
    }
}
