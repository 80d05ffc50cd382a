import NIOConcurrencyHelpers
import NIOCore

/// One message on the bus between the edge and `portcullis-rooms` (and backends that
/// publish directly): a flat list of named, binary-safe fields stored as one stream entry.
///
/// The field list is the contract, versioned by `v` and documented in `docs/bus.md`;
/// ``fields`` encodes it for XADD and ``init(entry:)`` decodes it. Only ``id`` and ``kind``
/// are required; every other field is present only when it means something for the kind.
///
/// Delivery is at least once: a consumer may see the same envelope twice (a redelivered
/// pending entry, a retried XADD), so ``id`` is unique per envelope and is the dedup key.
/// A consumer meets ``Kind``s it does not know (a newer publisher) and skips them.
public struct Envelope: Sendable, Hashable {
    /// The contract version this code writes and reads (`v`). Adding an optional field or a
    /// kind does not change it; changing the meaning of an existing field does.
    public static let version = 1

    /// `id`: unique per envelope, 1…128 bytes; consumers dedupe on it.
    public var id: String
    /// `kind`: what happened (inbound) or what to do (outbound).
    public var kind: Kind
    /// `app`: the app the connection belongs to (rooms app name).
    public var app: String?
    /// `edge`: the edge that published an inbound envelope.
    public var edge: String?
    /// `conn`: the connection an inbound envelope comes from; embeds the edge id
    /// (see ``StreamNames/edgeID(ofConnection:)``).
    public var connection: String?
    /// `user`: the verified subject of the connection.
    public var user: String?
    /// `ns`: the Socket.IO namespace or ActionCable channel identifier.
    public var namespace: String?
    /// `to`, `target`: who an outbound envelope is for.
    public var target: Target?
    /// `except`: a connection left out of an outbound fan-out (the sender of a broadcast).
    public var except: String?
    /// `room`: the room of `join` and `leave`.
    public var room: String?
    /// `event`: the event name (Socket.IO event, ActionCable action).
    public var event: String?
    /// `ack`: the acknowledgement id a message asks for or an ack answers.
    public var ack: Int?
    /// `reason`: why a connection closed or is being disconnected.
    public var reason: String?
    /// `claims`: the verified identity as JSON text, as the edge chose to pass it on.
    public var claims: String?
    /// `data` and `dataType`: the payload, untouched bytes.
    public var data: Payload?
    /// `args`: `data` is a JSON array of event arguments (Socket.IO spreads them into the
    /// event), not one value. Inbound Socket.IO messages and acks always set it.
    public var arguments: Bool = false
    /// `att:0` … `att:9`: binary attachments of a Socket.IO binary event or ack, in the
    /// order of the `{"_placeholder":true,"num":i}` placeholders in `data`.
    public var attachments: [ByteBuffer] = []
    /// `ts`: when the envelope was made, in milliseconds since the Unix epoch.
    public var timestamp: Int64?

    public init(
        id: String,
        kind: Kind,
        app: String? = nil,
        edge: String? = nil,
        connection: String? = nil,
        user: String? = nil,
        namespace: String? = nil,
        target: Target? = nil,
        except: String? = nil,
        room: String? = nil,
        event: String? = nil,
        ack: Int? = nil,
        reason: String? = nil,
        claims: String? = nil,
        data: Payload? = nil,
        timestamp: Int64? = nil
    ) {
        self.id = id
        self.kind = kind
        self.app = app
        self.edge = edge
        self.connection = connection
        self.user = user
        self.namespace = namespace
        self.target = target
        self.except = except
        self.room = room
        self.event = event
        self.ack = ack
        self.reason = reason
        self.claims = claims
        self.data = data
        self.timestamp = timestamp
    }

    /// A fresh 128-bit id as 32 lowercase hex digits: unique, unpredictable enough to
    /// never collide, not a secret. The high half is drawn from the system's generator once
    /// per process; the low half is a per-process counter (starting at a random value)
    /// passed through SplitMix64's finalizer, a bijection, so one process never repeats an
    /// id. This spares a getrandom(2) call per envelope, which measured at 3% of the edge's
    /// CPU on the message path.
    public static func randomID() -> String {
        let count = Self.idCounter.withLockedValue { value in
            value &+= 1
            return value
        }
        return Self.hex(Self.idPrefix, Self.mixed(count))
    }

    private static let idPrefix: UInt64 = {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }()

    private static let idCounter: NIOLockedValueBox<UInt64> = {
        var generator = SystemRandomNumberGenerator()
        return NIOLockedValueBox(generator.next())
    }()

    private static func mixed(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private static func hex(_ high: UInt64, _ low: UInt64) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 32) { buffer in
            digits.withUTF8Buffer { digits in
                for index in 0..<16 {
                    let shift = UInt64(60 - 4 * index)
                    buffer[index] = digits[Int((high >> shift) & 0xF)]
                    buffer[16 + index] = digits[Int((low >> shift) & 0xF)]
                }
            }
            return 32
        }
    }
}

extension Envelope {
    /// The kind of an envelope. Known kinds are the static members; any other non-empty text
    /// decodes too (``isKnown`` is false) so that a consumer can skip what a newer publisher
    /// sends instead of failing.
    public struct Kind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        // Inbound: edge → rooms, on `<prefix>:in:<app>`.

        /// A connection joined a namespace or subscribed to a channel.
        public static let open = Kind(rawValue: "open")
        /// A client event or action (`event`, `data`, optional `ack`).
        public static let message = Kind(rawValue: "message")
        /// A connection left a namespace, unsubscribed or closed (`reason`).
        public static let close = Kind(rawValue: "close")
        /// The client refreshed its token in band; `claims` holds the new identity.
        public static let refresh = Kind(rawValue: "refresh")

        /// Both directions: inbound, a client's answer to an emit that asked for an ack;
        /// outbound, the answer to a client message that asked for one.
        public static let ack = Kind(rawValue: "ack")

        // Outbound: rooms or a backend → edges, on `<prefix>:out:…`.

        /// Send `event` with `data` to the target.
        public static let emit = Kind(rawValue: "emit")
        /// Add the target's connections to `room`.
        public static let join = Kind(rawValue: "join")
        /// Remove the target's connections from `room`.
        public static let leave = Kind(rawValue: "leave")
        /// Close the target's connections with the protocol's notice and `reason`; with
        /// `ns`, only leave that namespace (Socket.IO DISCONNECT) or subscription.
        public static let disconnect = Kind(rawValue: "disconnect")
        /// Confirm the target connection's pending subscription `ns` (ActionCable
        /// `confirm_subscription`); the handler's answer to an `open` for a channel.
        public static let confirm = Kind(rawValue: "confirm")
        /// Refuse it (ActionCable `reject_subscription`, Socket.IO CONNECT_ERROR with
        /// `reason`).
        public static let reject = Kind(rawValue: "reject")

        /// Every kind this version knows, inbound first.
        public static let allKnown: [Kind] = [
            .open, .message, .close, .refresh, .ack, .emit, .join, .leave, .disconnect, .confirm, .reject,
        ]

        /// False for a kind this version does not know: skip (and acknowledge) the envelope.
        public var isKnown: Bool { Self.allKnown.contains(self) }

        public var description: String { self.rawValue }
    }

    /// Who an outbound envelope is for: one connection, every connection of a user, of a
    /// room or of one token, or every connection (of ``Envelope/app`` when set). Written as
    /// `to` and `target`.
    public enum Target: Sendable, Hashable {
        case connection(String)
        case user(String)
        case room(String)
        /// Every connection authenticated with the token whose `jti` this is (revocation).
        case token(String)
        case all

        /// The `to` field: `conn`, `user`, `room`, `jti` or `all`.
        public var scope: String {
            switch self {
            case .connection: "conn"
            case .user: "user"
            case .room: "room"
            case .token: "jti"
            case .all: "all"
            }
        }

        /// The `target` field; nil for ``all``.
        public var value: String? {
            switch self {
            case .connection(let id), .user(let id), .room(let id), .token(let id): id
            case .all: nil
            }
        }
    }

    /// A payload and how to read it. The bytes are never transcoded: binary passes through
    /// as it came, and JSON is the text the publisher wrote.
    public struct Payload: Sendable, Hashable {
        public var bytes: ByteBuffer
        public var type: DataType

        public init(bytes: ByteBuffer, type: DataType) {
            self.bytes = bytes
            self.type = type
        }

        /// JSON text (the default type: an envelope without `dataType` carries JSON).
        public static func json(_ text: String) -> Payload {
            Payload(bytes: ByteBuffer(string: text), type: .json)
        }

        /// Plain UTF-8 text (a raw WebSocket text frame).
        public static func text(_ text: String) -> Payload {
            Payload(bytes: ByteBuffer(string: text), type: .text)
        }

        /// Raw bytes (a binary frame, a Socket.IO binary attachment).
        public static func binary(_ bytes: ByteBuffer) -> Payload {
            Payload(bytes: bytes, type: .binary)
        }

        /// The bytes as text, invalid UTF-8 repaired; meant for `json` and `text` payloads.
        public var string: String { String(buffer: self.bytes) }
    }

    /// `dataType`: `json` (the default when the field is absent), `text` or `binary`.
    public struct DataType: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case json
            case text
            case binary
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        public static let json = DataType(.json)
        public static let text = DataType(.text)
        public static let binary = DataType(.binary)

        /// Parses the field's value; nil for anything else.
        public init?(rawValue: String) {
            switch rawValue {
            case "json": self.init(.json)
            case "text": self.init(.text)
            case "binary": self.init(.binary)
            default: return nil
            }
        }

        public var rawValue: String {
            switch self.base {
            case .json: "json"
            case .text: "text"
            case .binary: "binary"
            }
        }

        public var description: String { self.rawValue }
    }
}
