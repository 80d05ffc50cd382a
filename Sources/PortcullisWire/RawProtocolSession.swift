/// The message layer of Portcullis's "raw" WebSocket protocol.
///
/// Sits above ``WebSocketMessageAssembler``: it receives complete, already validated
/// messages and decides what to publish to the bus or send back. It holds no mutable
/// state and does no I/O, so one value can serve a connection for its lifetime.
///
/// - `json` mode: text messages are envelopes `{"event": string, "data": any, "ack": int?}`.
///   `data` is forwarded as the exact JSON text the client sent (validated, never
///   re-serialized), so number precision, key order and escapes survive the hop.
///   Bad envelopes are answered with an `error` event; they never close the socket.
/// - `opaque` mode: every message passes through untouched, text as text and binary
///   as binary, in both directions.
public struct RawProtocolSession: Hashable, Sendable {
    public enum Mode: String, Hashable, Sendable {
        case json
        case opaque
    }

    /// A message to write to the client.
    public enum Outbound: Hashable, Sendable {
        case text(String)
        case binary([UInt8])
    }

    public enum Action: Hashable, Sendable {
        /// json mode: publish an event; `data` is JSON text (`null` when absent).
        case publish(event: String, data: String, ack: Int?)
        /// opaque mode: publish a text message verbatim.
        case publishText(String)
        /// Either mode: publish a binary message verbatim.
        case publishBinary([UInt8])
        /// Reply to the client without publishing (e.g. an `error` event).
        case send(Outbound)
        /// json mode, event ``refreshEvent``: the client offers a fresh token for the
        /// connection's identity. Handled by the edge, never published.
        case refresh(token: String)
    }

    /// The edge-owned event of json mode: `{"event":"$refresh","data":{"token":"<jwt>"}}`.
    /// Events starting with `$` are reserved for the edge.
    public static let refreshEvent = "$refresh"
    /// The answer to an accepted refresh: `{"event":"$refreshed","data":{"exp":<unix s>}}`.
    public static let refreshedEvent = "$refreshed"

    public let mode: Mode

    public init(mode: Mode) {
        self.mode = mode
    }

    /// Event: a complete text message arrived from the client.
    public func receivedText(_ text: String) -> Action {
        switch self.mode {
        case .opaque:
            return .publishText(text)
        case .json:
            switch Self.parseEnvelope(text) {
            case .success(let envelope) where envelope.event == Self.refreshEvent:
                guard let token = Self.token(in: envelope.data) else {
                    return .send(
                        .text(Self.errorEvent(code: "bad_refresh", message: "$refresh needs data {\"token\": string}")))
                }
                return .refresh(token: token)
            case .success(let envelope) where envelope.event.hasPrefix("$"):
                return .send(
                    .text(Self.errorEvent(code: "bad_message", message: "events starting with $ are reserved")))
            case .success(let envelope):
                return .publish(event: envelope.event, data: envelope.data, ack: envelope.ack)
            case .failure(let failure):
                return .send(.text(Self.errorEvent(code: "bad_message", message: failure.message)))
            }
        }
    }

    /// Event: a complete binary message arrived from the client.
    public func receivedBinary(_ bytes: [UInt8]) -> Action {
        .publishBinary(bytes)
    }

    /// Encodes an event for the client. In json mode `data` must already be JSON text
    /// (it is inserted as-is; the publisher owns its validity); in opaque mode `data`
    /// is sent verbatim as a text message and `event` is not used.
    public func outboundEvent(_ event: String, data: String) -> Outbound {
        switch self.mode {
        case .opaque:
            return .text(data)
        case .json:
            var text = "{\"event\":"
            JSONString.encode(event, into: &text)
            text += ",\"data\":" + data + "}"
            return .text(text)
        }
    }

    /// Encodes a binary message for the client; binary stays binary in both modes.
    public func outboundBinary(_ bytes: [UInt8]) -> Outbound {
        .binary(bytes)
    }

    /// Encodes the reply to a client message that carried `ack`: `{"event":"ack","ack":n,"data":…}`.
    /// `data` is JSON text inserted as-is.
    public func ackReply(_ ack: Int, data: String = "null") -> Outbound {
        .text("{\"event\":\"ack\",\"ack\":\(ack),\"data\":\(data)}")
    }

    /// `{"event":"$refreshed","data":{"exp":…}}`.
    public static func refreshedEvent(expiresAt: Int64?) -> String {
        "{\"event\":\"\(refreshedEvent)\",\"data\":{\"exp\":\(expiresAt.map(String.init) ?? "null")}}"
    }

    /// The non-empty string `token` of a JSON object, or nil.
    static func token(in data: String) -> String? {
        var scanner = JSONScanner(Array(data.utf8))
        var token: String?
        do throws(JSONScanner.Failure) {
            try scanner.scanObjectMembers { key, scanner throws(JSONScanner.Failure) in
                if key == "token", scanner.peek() == UInt8(ascii: "\"") {
                    token = try scanner.scanString()
                } else {
                    try scanner.skipValue(depth: 1)
                }
            }
        } catch {
            return nil
        }
        return token.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `{"event":"error","data":{"code":…,"message":…}}`, how json-mode clients learn of
    /// refused messages.
    public static func errorEvent(code: String, message: String) -> String {
        var text = "{\"event\":\"error\",\"data\":{\"code\":"
        JSONString.encode(code, into: &text)
        text += ",\"message\":"
        JSONString.encode(message, into: &text)
        text += "}}"
        return text
    }

    struct Envelope: Hashable {
        var event: String
        var data: String
        var ack: Int?
    }

    /// Parses a json-mode envelope. Unknown keys are ignored; duplicate known keys,
    /// an empty or non-string `event`, and an `ack` that is not a non-negative integer
    /// (or null) are rejected.
    static func parseEnvelope(_ text: String) -> Result<Envelope, JSONScanner.Failure> {
        var scanner = JSONScanner(Array(text.utf8))
        do {
            return .success(try self.scanEnvelope(&scanner))
        } catch {
            return .failure(error)
        }
    }

    private static func scanEnvelope(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> Envelope {
        var event: String?
        var data: String?
        var ack: Int??
        scanner.skipWhitespace()
        guard scanner.peek() == UInt8(ascii: "{") else {
            throw JSONScanner.Failure(message: "message must be a JSON object")
        }
        try scanner.scanObjectMembers { key, scanner throws(JSONScanner.Failure) in
            switch key {
            case "event":
                guard event == nil else { throw JSONScanner.Failure(message: "duplicate \"event\"") }
                guard scanner.peek() == UInt8(ascii: "\"") else {
                    throw JSONScanner.Failure(message: "\"event\" must be a string")
                }
                event = try scanner.scanString()
            case "data":
                guard data == nil else { throw JSONScanner.Failure(message: "duplicate \"data\"") }
                let range = try scanner.skipValue(depth: 1)
                data = String(decoding: scanner.bytes[range], as: UTF8.self)
            case "ack":
                guard ack == nil else { throw JSONScanner.Failure(message: "duplicate \"ack\"") }
                let range = try scanner.skipValue(depth: 1)
                ack = .some(try Self.ackValue(scanner.bytes[range]))
            default:
                try scanner.skipValue(depth: 1)
            }
        }
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw JSONScanner.Failure(message: "trailing data after JSON object") }
        guard let event else { throw JSONScanner.Failure(message: "missing \"event\"") }
        guard !event.isEmpty else { throw JSONScanner.Failure(message: "\"event\" must not be empty") }
        return Envelope(event: event, data: data ?? "null", ack: ack ?? nil)
    }

    private static func ackValue(_ bytes: ArraySlice<UInt8>) throws(JSONScanner.Failure) -> Int? {
        if bytes.elementsEqual("null".utf8) { return nil }
        let failure = JSONScanner.Failure(message: "\"ack\" must be a non-negative integer")
        guard !bytes.isEmpty, bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let value = Int(String(decoding: bytes, as: UTF8.self))
        else { throw failure }
        return value
    }
}
