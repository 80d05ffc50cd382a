/// Every failure PortcullisBus reports: a reply error from Redis, a lost or refused
/// connection, a full reconnect buffer, or a reply whose shape a typed command did not expect.
///
/// `code` tells the kind; `message` is for humans and logs. `isRetrySafe` is true only when
/// the command certainly never reached Redis (it was refused before being written), so a
/// retry cannot apply it twice. A command that was in flight when its connection dropped
/// fails with ``Code/connectionClosed`` and `isRetrySafe == false`: Redis may or may not
/// have run it, and only the caller knows whether running it again is harmless.
public struct RedisError: Error, CustomStringConvertible {
    /// The kind of failure. Compare with the static members (`error.code == .bufferFull`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case server
            case connectionClosed
            case connectFailed
            case bufferFull
            case clientClosed
            case protocolViolation
            case unexpectedReply
            case invalidURL
            case invalidArgument
            case tlsSetupFailed
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// Redis answered the command with an error reply (`-ERR …`, `-WRONGTYPE …`);
        /// ``RedisError/serverCode`` holds the reply's first word.
        public static let server = Code(.server)
        /// The connection closed (or failed) while the command was in flight.
        public static let connectionClosed = Code(.connectionClosed)
        /// Connecting, authenticating or selecting the database failed.
        public static let connectFailed = Code(.connectFailed)
        /// The client is disconnected and its buffer of waiting commands is full. Callers
        /// should treat this as backpressure: refuse or shed the work that produced the command.
        public static let bufferFull = Code(.bufferFull)
        /// The client was closed before the command could be sent.
        public static let clientClosed = Code(.clientClosed)
        /// The server sent bytes that are not RESP, or a reply nobody asked for.
        public static let protocolViolation = Code(.protocolViolation)
        /// A typed command got a reply of a shape it does not understand.
        public static let unexpectedReply = Code(.unexpectedReply)
        /// A Redis URL could not be parsed.
        public static let invalidURL = Code(.invalidURL)
        /// The command was malformed before it was sent (for example, it was empty).
        public static let invalidArgument = Code(.invalidArgument)
        /// The TLS settings could not be used: an unreadable or invalid CA, certificate or
        /// key file, or a key that does not match its certificate.
        public static let tlsSetupFailed = Code(.tlsSetupFailed)

        public var description: String {
            switch self.base {
            case .server: "server"
            case .connectionClosed: "connectionClosed"
            case .connectFailed: "connectFailed"
            case .bufferFull: "bufferFull"
            case .clientClosed: "clientClosed"
            case .protocolViolation: "protocolViolation"
            case .unexpectedReply: "unexpectedReply"
            case .invalidURL: "invalidURL"
            case .invalidArgument: "invalidArgument"
            case .tlsSetupFailed: "tlsSetupFailed"
            }
        }
    }

    public var code: Code
    /// A human-readable explanation; for ``Code/server`` errors, the full reply text.
    public var message: String
    /// For ``Code/server`` errors, the reply's first word: `ERR`, `WRONGTYPE`, `NOGROUP`,
    /// `BUSYGROUP`, `WRONGPASS`, `NOAUTH`…; nil otherwise.
    public var serverCode: String?
    /// True when the command was never written to Redis, so retrying it cannot run it twice.
    public var isRetrySafe: Bool
    /// The lower-level error (an NIO channel error, a connect failure), when there is one.
    public var underlying: (any Error)?

    public init(
        code: Code,
        message: String,
        serverCode: String? = nil,
        isRetrySafe: Bool = false,
        underlying: (any Error)? = nil
    ) {
        self.code = code
        self.message = message
        self.serverCode = serverCode
        self.isRetrySafe = isRetrySafe
        self.underlying = underlying
    }

    /// The error for a RESP error reply such as `BUSYGROUP Consumer Group name already exists`.
    public init(serverReply message: String) {
        let word = message.prefix { $0 != " " }
        self.init(code: .server, message: message, serverCode: word.isEmpty ? nil : String(word))
    }

    public var description: String {
        if let underlying {
            return "RedisError(\(self.code)): \(self.message) (\(underlying))"
        }
        return "RedisError(\(self.code)): \(self.message)"
    }
}

extension RedisError {
    static func unexpectedReply(_ value: RESPValue, expected: String) -> RedisError {
        RedisError(code: .unexpectedReply, message: "expected \(expected), got \(value)")
    }

    static func connectionClosed(underlying: (any Error)? = nil) -> RedisError {
        RedisError(code: .connectionClosed, message: "connection to Redis closed", underlying: underlying)
    }
}
