/// Outbound bus messages as Socket.IO packets, once per namespace for every connection in
/// it (``SocketEncoding/Format/socketIO``).
///
/// What a publisher writes is checked before it reaches a client: a socket.io-client
/// closes the whole connection on a packet it cannot decode, so anything that would make
/// one — JSON that is not JSON, a reserved event name, a placeholder naming no attachment,
/// an ack id a JavaScript number cannot hold — encodes to nothing instead.
extension SocketIOSession {
    /// The event name of an emit that names none (the JS client's `socket.send`).
    public static let defaultEventName = "message"

    /// The Engine.IO packets that carry `delivery` on `namespace`, each one
    /// ``SocketOutbound``: the packet text `4…`, then one `.binary` per attachment.
    ///
    /// Arguments come from `data`:
    /// - `.json` with ``SocketDelivery/arguments``: the array's elements, spread;
    ///   without: the value as one argument. An ack's `.json` array is its argument list
    ///   either way (the bus contract for `ack`); another value is one argument.
    /// - `.text`: one JSON string argument. `.binary`: one binary argument, so a BINARY_EVENT
    ///   (`451-["event",{"_placeholder":true,"num":0}]` then the bytes).
    /// - nil: no arguments.
    ///
    /// ``SocketDelivery/attachments`` make a BINARY_EVENT / BINARY_ACK whose placeholders
    /// in `data` refer to them. An emit needs no `event` (``defaultEventName``); an ack
    /// needs its `ack` id. Invalid input gives `[]`.
    public static func encode(_ delivery: SocketDelivery, namespace: String) -> [SocketOutbound] {
        guard let namespace = SocketIONamespace(namespace),
            delivery.ack.map({ (0...SocketIOPacket.maxAckID).contains($0) }) ?? true,
            case let (arguments, attachments)? = self.arguments(of: delivery),
            attachments.count <= SocketIOPacket.defaultMaxAttachments
        else { return [] }
        let packet: SocketIOPacket
        switch delivery.kind {
        case .emit:
            let name = delivery.event ?? Self.defaultEventName
            guard !SocketIOPacket.reservedEventNames.contains(name) else { return [] }
            guard !attachments.isEmpty else {
                packet = .event(name, arguments: arguments, namespace: namespace, ackID: delivery.ack)
                break
            }
            let payload = "[" + JSONString.encode(name) + arguments.map { "," + $0 }.joined() + "]"
            guard
                let binary = try? SocketIOPacket.binary(
                    .binaryEvent, payload: payload, attachments: attachments, namespace: namespace,
                    ackID: delivery.ack)
            else { return [] }
            packet = binary
        case .ack:
            guard let ackID = delivery.ack else { return [] }
            guard !attachments.isEmpty else {
                packet = .ack(id: ackID, arguments: arguments, namespace: namespace)
                break
            }
            let payload = "[" + arguments.joined(separator: ",") + "]"
            guard
                let binary = try? SocketIOPacket.binary(
                    .binaryAck, payload: payload, attachments: attachments, namespace: namespace, ackID: ackID)
            else { return [] }
            packet = binary
        }
        return packet.webSocketFrames.map { frame in
            switch frame {
            case .text(let text): .text(text)
            case .binary(let bytes): .binary(bytes)
            }
        }
    }

    /// The placeholder of a binary argument sent as attachment `0`.
    static let firstPlaceholder = #"{"_placeholder":true,"num":0}"#

    /// The arguments (valid JSON texts) and attachments `delivery` stands for; nil when
    /// its data is not what it claims to be.
    private static func arguments(of delivery: SocketDelivery) -> ([String], [[UInt8]])? {
        switch delivery.data {
        case nil:
            return ([], delivery.attachments)
        case .text(let text):
            return ([JSONString.encode(text)], delivery.attachments)
        case .binary(let bytes):
            // The bytes are the one attachment; more would have no placeholder to name them.
            guard delivery.attachments.isEmpty else { return nil }
            return ([Self.firstPlaceholder], [bytes])
        case .json(let text):
            if delivery.arguments || delivery.kind == .ack, let elements = Self.arrayElements(text) {
                return (elements, delivery.attachments)
            }
            guard !delivery.arguments, let value = Self.singleValue(text) else { return nil }
            return ([value], delivery.attachments)
        }
    }

    /// The elements of the JSON array `text`, each exactly as written; nil unless `text`
    /// is one JSON array (whitespace around it allowed).
    static func arrayElements(_ text: String) -> [String]? {
        var scanner = JSONScanner(Array(text.utf8))
        var elements: [String] = []
        do throws(JSONScanner.Failure) {
            scanner.skipWhitespace()
            try scanner.expect(UInt8(ascii: "["), "'['")
            scanner.skipWhitespace()
            if scanner.peek() == UInt8(ascii: "]") {
                try scanner.expect(UInt8(ascii: "]"), "']'")
            } else {
                while true {
                    scanner.skipWhitespace()
                    let range = try scanner.skipValue(depth: 1)
                    elements.append(String(decoding: scanner.bytes[range], as: UTF8.self))
                    scanner.skipWhitespace()
                    guard scanner.peek() == UInt8(ascii: ",") else { break }
                    try scanner.expect(UInt8(ascii: ","), "','")
                }
                try scanner.expect(UInt8(ascii: "]"), "',' or ']'")
            }
        } catch {
            return nil
        }
        scanner.skipWhitespace()
        return scanner.isAtEnd ? elements : nil
    }

    /// `text` without the whitespace around it, when it is exactly one JSON value.
    static func singleValue(_ text: String) -> String? {
        var scanner = JSONScanner(Array(text.utf8))
        scanner.skipWhitespace()
        guard let range = try? scanner.skipValue(depth: 0) else { return nil }
        scanner.skipWhitespace()
        return scanner.isAtEnd ? String(decoding: scanner.bytes[range], as: UTF8.self) : nil
    }
}
