/// Why a `join` or `leave` failed, as the client reads it in the `error` event:
/// `{"code": …, "message": …, "details": {"action": …, "data": …}}`.
struct ModelActivityError: Error, Sendable, Hashable {
    /// The `code` a client switches on: the product's two (`UNAUTHORISED`,
    /// `ROOM_NOT_FOUND`) and `INVALID_ARGUMENTS` for data that is not what `join` and
    /// `leave` take (the product's REST API uses the same code for malformed input).
    struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case unauthorised = "UNAUTHORISED"
            case roomNotFound = "ROOM_NOT_FOUND"
            case invalidArguments = "INVALID_ARGUMENTS"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// Not logged in, or no read access to the model.
        static let unauthorised = Code(.unauthorised)
        /// The model does not exist, or the data names no room.
        static let roomNotFound = Code(.roomNotFound)
        /// The data is not an object, or one of its members has the wrong type.
        static let invalidArguments = Code(.invalidArguments)

        var description: String { self.base.rawValue }
    }

    var code: Code
    var message: String

    static func unauthorised(_ message: String) -> Self {
        Self(code: .unauthorised, message: message)
    }

    static func roomNotFound(_ message: String) -> Self {
        Self(code: .roomNotFound, message: message)
    }

    static func invalidArguments(_ message: String) -> Self {
        Self(code: .invalidArguments, message: message)
    }

    static let notLoggedIn = Self.unauthorised("You are not logged in")
    static let noAccess = Self.unauthorised("You do not have sufficient access rights to join the room requested")
    static let modelNotFound = Self.roomNotFound("Model not found")

    /// The `error` event's payload for `action` (`join`, `leave`) on the client's `data`.
    func payload(action: String, data: JSON) -> JSON {
        [
            "code": .string(self.code.description), "message": .string(self.message),
            "details": ["action": .string(action), "data": data],
        ]
    }
}
