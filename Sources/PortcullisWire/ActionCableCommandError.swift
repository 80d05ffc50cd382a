/// Why a client's ActionCable text frame is not a command the session can act on.
///
/// Produced by ``ActionCableCommand/init(decoding:)`` and ``ActionCableIdentifier/init(_:)``.
/// The ``code`` names the fault (bounded, fit for a metrics label); ``message`` is a short
/// human text for the log. The source is always the client, and resending the same bytes
/// never helps.
///
/// **The protocol's reaction is to log and drop the frame: no reply, no close.** That is
/// what the Ruby server does, so Rails' JS client never expects anything else:
/// - Rails 7.2 `ActionCable::Connection::Subscriptions#execute_command` logs
///   `Received unrecognized command in …` for an unknown or missing `command`, and rescues
///   every other failure (identifier that is not JSON, unknown channel, `message` for a
///   subscription it does not hold, undecodable `data`) into one
///   `Could not execute command from (…)` log line.
/// - Rails main (rails/rails `2a2db1e`) raises typed errors instead (`UnknownCommandError`,
///   `MalformedCommandError`, `MissingIdentifier`, `ChannelNotFound`,
///   `UnknownSubscription`); `Connection::Base#handle_channel_command` offers them to
///   `rescue_from` handlers and re-raises, and `Server::Socket#dispatch_websocket_message`
///   rescues everything into `Could not handle incoming message: …`. A frame that is not
///   JSON at all fails in that same method's `decode` and is logged there too.
///
/// Either way nothing is transmitted and the socket stays open; the session should count
/// the code, log the message and carry on. Where this decoder is stricter than Rails
/// (duplicate members, which Ruby resolves last-wins; an `action` of `false`, `[]` or `{}`,
/// which Rails sends to `receive`) it only turns frames no Rails client sends into this
/// same silent drop.
public struct ActionCableCommandError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of fault; a struct over a private enum so cases can be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case malformedFrame = "malformed_frame"
            case unknownCommand = "unknown_command"
            case missingIdentifier = "missing_identifier"
            case identifierNotString = "identifier_not_string"
            case malformedIdentifier = "malformed_identifier"
            case invalidChannel = "invalid_channel"
            case missingData = "missing_data"
            case dataNotString = "data_not_string"
            case malformedData = "malformed_data"
            case invalidAction = "invalid_action"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The frame is not one JSON object: bad JSON, trailing bytes, nesting deeper than
        /// 64 levels, or a member (`command`, `identifier`, `data`) given twice.
        public static let malformedFrame = Code(.malformedFrame)
        /// `command` is missing, not a string, or not `subscribe`, `unsubscribe` or `message`
        /// (AnyCable's `history`, `pong`, `whisper`… included: ``ActionCableSubprotocol``
        /// says why we do not speak them yet).
        public static let unknownCommand = Code(.unknownCommand)
        /// `identifier` is missing, `null` or the empty string.
        public static let missingIdentifier = Code(.missingIdentifier)
        /// `identifier` is a JSON value other than a string (the JS client always sends a string).
        public static let identifierNotString = Code(.identifierNotString)
        /// The identifier's own text is not one JSON object.
        public static let malformedIdentifier = Code(.malformedIdentifier)
        /// The identifier object has no `channel`, or more than one, or one that is not a
        /// non-empty string.
        public static let invalidChannel = Code(.invalidChannel)
        /// A `message` command without `data` (or with `data: null`).
        public static let missingData = Code(.missingData)
        /// A `message` command whose `data` is not a JSON string.
        public static let dataNotString = Code(.dataNotString)
        /// The `data` string's own text is not one JSON object.
        public static let malformedData = Code(.malformedData)
        /// `data.action` is neither a string nor `null`, or is given twice.
        public static let invalidAction = Code(.invalidAction)

        public var description: String {
            self.base.rawValue
        }
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String {
        "ActionCableCommandError(\(self.code)): \(self.message)"
    }
}
