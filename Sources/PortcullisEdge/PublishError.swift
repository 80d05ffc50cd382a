import NIOHTTP1

/// Why the publish API refused a request: the status it answers with and a message for the
/// backend's logs, sent as `{"error": "<message>"}`.
///
/// Every refusal but ``Code/unavailable`` happens before anything is written to the bus;
/// an `unavailable` message says whether some messages may have been published.
struct PublishError: Error, Hashable, CustomStringConvertible {
    struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalid
            case notEnabled = "not_enabled"
            case notFound = "not_found"
            case methodNotAllowed = "method_not_allowed"
            case forbidden
            case unauthorized
            case tooLarge = "too_large"
            case unavailable
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// 400: the body or a path segment is malformed; the message names the message
        /// index and field.
        static let invalid = Code(.invalid)
        /// 404: no `admin.publish` in the configuration.
        static let notEnabled = Code(.notEnabled)
        /// 404: an endpoint that does not exist, or `/emit` without a route declaring
        /// `emit_endpoints`.
        static let notFound = Code(.notFound)
        /// 405: anything but POST.
        static let methodNotAllowed = Code(.methodNotAllowed)
        /// 403: plain HTTP from a peer that is not on loopback.
        static let forbidden = Code(.forbidden)
        /// 401: no bearer key, or the wrong one.
        static let unauthorized = Code(.unauthorized)
        /// 413: a body over `admin.publish.max_body_size`.
        static let tooLarge = Code(.tooLarge)
        /// 503: Redis is unreachable or did not answer in time.
        static let unavailable = Code(.unavailable)

        var status: HTTPResponseStatus {
            switch base {
            case .invalid: .badRequest
            case .notEnabled, .notFound: .notFound
            case .methodNotAllowed: .methodNotAllowed
            case .forbidden: .forbidden
            case .unauthorized: .unauthorized
            case .tooLarge: .payloadTooLarge
            case .unavailable: .serviceUnavailable
            }
        }

        /// The `result` label of the publish metrics.
        var description: String { base.rawValue }
    }

    var code: Code
    var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    static func invalid(_ message: String) -> PublishError {
        PublishError(.invalid, message)
    }

    var description: String { "\(code): \(message)" }
}
