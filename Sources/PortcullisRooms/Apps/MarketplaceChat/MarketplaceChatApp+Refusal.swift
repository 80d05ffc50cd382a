extension MarketplaceChatApp {
    /// Why the app refused a client event. The client gets an `error` event
    /// `{"event":…,"code":…,"message":…}` and, when it asked for an ack, the answer
    /// `{"error":{…the same…}}`; nothing is stored or sent to anyone else.
    struct Refusal: Error, Sendable, Hashable {
        struct Code: Hashable, Sendable, CustomStringConvertible {
            private enum Value: String {
                case invalidPayload = "invalid_payload"
                case roomNotFound = "room_not_found"
                case forbidden = "forbidden"
            }

            private let value: Value

            private init(_ value: Value) {
                self.value = value
            }

            /// A field is missing or has the wrong type or value.
            static let invalidPayload = Code(.invalidPayload)
            /// No room has this id.
            static let roomNotFound = Code(.roomNotFound)
            /// The socket's party may not do this: not the room's buyer or seller on the side
            /// it connected as, `from`/`to`/`creator` naming someone else.
            static let forbidden = Code(.forbidden)

            var description: String { self.value.rawValue }
        }

        var code: Code
        var message: String

        init(_ code: Code, _ message: String) {
            self.code = code
            self.message = message
        }

        /// The `error` event's data for a refusal of `event`.
        func payload(event: String) -> JSON {
            ["event": .string(event), "code": .string(self.code.description), "message": .string(self.message)]
        }
    }
}
