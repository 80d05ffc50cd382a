/// An Engine.IO request the server refuses, with the reference server's code and message.
///
/// Produced by ``EngineIORequestQuery`` (codes 0, 3, 5) and by the session layer (1 for
/// an unknown `sid`, 4 when the application refuses the handshake). ``httpStatus`` and
/// ``jsonBody`` are the answer the JS server gives to a polling request (`abortRequest`):
/// 403 for Forbidden, 400 otherwise, `{"code":N,"message":"…"}`. On a WebSocket upgrade
/// the JS server writes 400 with the bare message instead; browsers only report a failed
/// connection either way, so the edge may use the same answer for both. The source is the
/// client; retrying the same request never helps.
public struct EngineIORequestError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The Engine.IO error code (`Server.errors`); ``value`` is the number on the wire.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Int, Hashable, Sendable {
            case unknownTransport = 0
            case unknownSessionID = 1
            case badHandshakeMethod = 2
            case badRequest = 3
            case forbidden = 4
            case unsupportedProtocolVersion = 5
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// `transport` missing or not one this route serves.
        public static let unknownTransport = Code(.unknownTransport)
        /// `sid` names no live session.
        public static let unknownSessionID = Code(.unknownSessionID)
        /// A handshake (no `sid`) that is not a GET.
        public static let badHandshakeMethod = Code(.badHandshakeMethod)
        /// Malformed query, duplicate parameter, or transport and request disagreeing.
        public static let badRequest = Code(.badRequest)
        /// The application refused the handshake.
        public static let forbidden = Code(.forbidden)
        /// `EIO` missing or not `4`.
        public static let unsupportedProtocolVersion = Code(.unsupportedProtocolVersion)

        /// The number in the JSON body.
        public var value: Int {
            self.base.rawValue
        }

        /// The reference server's message for this code (`Server.errorMessages`).
        public var referenceMessage: String {
            switch self.base {
            case .unknownTransport: "Transport unknown"
            case .unknownSessionID: "Session ID unknown"
            case .badHandshakeMethod: "Bad handshake method"
            case .badRequest: "Bad request"
            case .forbidden: "Forbidden"
            case .unsupportedProtocolVersion: "Unsupported protocol version"
            }
        }

        /// snake_case, fit for a metrics label.
        public var description: String {
            switch self.base {
            case .unknownTransport: "unknown_transport"
            case .unknownSessionID: "unknown_session_id"
            case .badHandshakeMethod: "bad_handshake_method"
            case .badRequest: "bad_request"
            case .forbidden: "forbidden"
            case .unsupportedProtocolVersion: "unsupported_protocol_version"
            }
        }
    }

    public let code: Code
    /// What the client is told: the reference message, or the application's own text for
    /// ``Code/forbidden`` (as `allowRequest` may give one).
    public let message: String
    /// Why, for our logs only (the client never sees it): which parameter, which check.
    public let reason: String

    public init(code: Code, message: String? = nil, reason: String = "") {
        self.code = code
        self.message = message ?? code.referenceMessage
        self.reason = reason
    }

    /// 403 for ``Code/forbidden``, 400 for every other code.
    public var httpStatus: Int {
        self.code == .forbidden ? 403 : 400
    }

    /// `{"code":N,"message":"…"}`, keys in the reference order; sent as `application/json`.
    public var jsonBody: String {
        var body = "{\"code\":\(self.code.value),\"message\":"
        JSONString.encode(self.message, into: &body)
        body += "}"
        return body
    }

    public var description: String {
        "EngineIORequestError(\(self.code.value) \(self.message)): \(self.reason)"
    }
}
