extension MarketplaceChatApp {
    /// A client event's first argument, an object, read field by field; every miss is a
    /// ``Refusal`` with code `invalid_payload` naming the field.
    struct Input: Sendable {
        let fields: [String: JSON]

        init(_ message: RoomsMessage) throws(Refusal) {
            let arguments: [JSON]
            do {
                arguments = try message.arguments
            } catch {
                throw Refusal(.invalidPayload, "the data is not JSON")
            }
            guard let fields = arguments.first?.object else {
                throw Refusal(.invalidPayload, "the first argument must be an object")
            }
            self.fields = fields
        }

        /// A user id (a string, or an integer written in decimal) that ``isValidUserID(_:)``.
        func userID(_ key: String) throws(Refusal) -> String {
            guard let id = self.fields[key]?.identifier else { throw Refusal(.invalidPayload, "\(key) is required") }
            guard MarketplaceChatApp.isValidUserID(id) else {
                throw Refusal(.invalidPayload, "\(key) must be 1-128 characters without '.', ':' or spaces")
            }
            return id
        }

        /// A non-empty string.
        func string(_ key: String) throws(Refusal) -> String {
            guard let text = self.fields[key]?.string, !text.isEmpty else {
                throw Refusal(.invalidPayload, "\(key) must be a non-empty string")
            }
            return text
        }

        /// A string or an integer (client-made ids), at most 128 characters in decimal.
        func identifier(_ key: String) throws(Refusal) -> JSON {
            guard let value = self.fields[key], let text = value.identifier, text.count <= 128 else {
                throw Refusal(.invalidPayload, "\(key) must be a string or an integer")
            }
            return value
        }

        /// ``identifier(_:)`` when the field is present and not null.
        func optionalIdentifier(_ key: String) throws(Refusal) -> JSON? {
            guard let value = self.fields[key], value != .null else { return nil }
            return try self.identifier(key)
        }

        /// Any value but null.
        func value(_ key: String) throws(Refusal) -> JSON {
            guard let value = self.fields[key], value != .null else {
                throw Refusal(.invalidPayload, "\(key) is required")
            }
            return value
        }
    }
}
