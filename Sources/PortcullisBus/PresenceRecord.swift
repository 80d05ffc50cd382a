import Foundation

/// What an edge remembers about one open connection in its registry hash
/// `<prefix>:edge:<edge>:conns` (field = connection id), so that presence cleanup can
/// write the connection's `close` envelopes if the edge dies without writing them itself.
///
/// The value is JSON: `{"app":"echo","user":"42","ns":["/chat"]}`. `user` is absent for an
/// anonymous connection; `ns` lists the namespaces (Socket.IO) or channels (ActionCable)
/// the connection has open, and is empty for a raw WebSocket connection, which has none.
/// Readers ignore keys they do not know, so a newer edge may add some.
public struct PresenceRecord: Sendable, Hashable {
    /// Why a hash value is not a presence record. Parsing never traps: cleanup deletes such a
    /// field and moves on.
    public struct ParseError: Error, Hashable, CustomStringConvertible {
        /// The kind of failure. Compare with the static members (`error.code == .missingField`).
        public struct Code: Hashable, Sendable, CustomStringConvertible {
            private enum Base: Hashable, Sendable {
                case malformedJSON
                case missingField
                case invalidValue
            }

            private let base: Base

            private init(_ base: Base) {
                self.base = base
            }

            /// The value is not JSON, or not a JSON object.
            public static let malformedJSON = Code(.malformedJSON)
            /// `app` is absent.
            public static let missingField = Code(.missingField)
            /// A known key holds the wrong type, or `app` is empty.
            public static let invalidValue = Code(.invalidValue)

            public var description: String {
                switch self.base {
                case .malformedJSON: "malformedJSON"
                case .missingField: "missingField"
                case .invalidValue: "invalidValue"
                }
            }
        }

        public var code: Code
        /// The key at fault (`app`, `user`, `ns`); nil when the whole value is unreadable.
        public var field: String?
        /// A human-readable explanation; it never quotes the record (which names a user).
        public var message: String

        public init(code: Code, field: String?, message: String) {
            self.code = code
            self.field = field
            self.message = message
        }

        public var description: String {
            if let field {
                return "PresenceRecord.ParseError(\(self.code), field \(field)): \(self.message)"
            }
            return "PresenceRecord.ParseError(\(self.code)): \(self.message)"
        }
    }

    /// `app`: the rooms app the connection belongs to; its `close` goes to `<prefix>:in:<app>`.
    public var app: String
    /// `user`: the connection's verified subject; nil for an anonymous connection.
    public var user: String?
    /// `ns`: the namespaces or channels open on the connection, one `close` each; empty for
    /// a raw WebSocket connection (one `close` without `ns`).
    public var namespaces: [String]

    public init(app: String, user: String? = nil, namespaces: [String] = []) {
        self.app = app
        self.user = user
        self.namespaces = namespaces
    }

    /// The record as compact JSON, keys in the order `app`, `user`, `ns`. Built by hand: the
    /// edge writes one on every connection open, and this costs no Foundation round trip.
    public var json: String {
        var output = "{\"app\":"
        JSONStringLiteral.append(self.app, to: &output)
        if let user = self.user {
            output += ",\"user\":"
            JSONStringLiteral.append(user, to: &output)
        }
        output += ",\"ns\":["
        for (index, namespace) in self.namespaces.enumerated() {
            if index > 0 { output += "," }
            JSONStringLiteral.append(namespace, to: &output)
        }
        output += "]}"
        return output
    }

    /// Parses a hash value. `user` may be absent or `null`; `ns` may be absent (no
    /// namespaces); other keys are ignored.
    public init(json: String) throws(ParseError) {
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])
        else {
            throw ParseError(code: .malformedJSON, field: nil, message: "not valid JSON")
        }
        guard let object = parsed as? [String: Any] else {
            throw ParseError(code: .malformedJSON, field: nil, message: "expected a JSON object")
        }

        guard let appValue = object["app"], !(appValue is NSNull) else {
            throw ParseError(code: .missingField, field: "app", message: "key app is required")
        }
        guard let app = appValue as? String, !app.isEmpty else {
            throw ParseError(code: .invalidValue, field: "app", message: "expected a non-empty string")
        }
        var user: String?
        if let userValue = object["user"], !(userValue is NSNull) {
            guard let text = userValue as? String else {
                throw ParseError(code: .invalidValue, field: "user", message: "expected a string")
            }
            user = text
        }
        var namespaces: [String] = []
        if let nsValue = object["ns"], !(nsValue is NSNull) {
            guard let strings = nsValue as? [String] else {
                throw ParseError(code: .invalidValue, field: "ns", message: "expected a list of strings")
            }
            namespaces = strings
        }
        self.init(app: app, user: user, namespaces: namespaces)
    }
}
