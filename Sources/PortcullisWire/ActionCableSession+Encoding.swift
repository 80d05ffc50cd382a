extension ActionCableSession {
    /// The frame an outbound message becomes for the subscription `identifier` (its decoded
    /// string, an ``SocketEncoding/namespace`` of format ``SocketEncoding/Format/actionCable``):
    /// `{"identifier":"<identifier as a JSON string>","message":<data>}`, as Rails'
    /// `Channel::Base#transmit` writes a broadcast.
    ///
    /// - `json` data is inserted as it is, once checked to be one JSON value; invalid JSON
    ///   encodes to nothing rather than a frame the client cannot parse.
    /// - `text` data becomes a JSON string; absent data, `null`.
    /// - `binary` data encodes to nothing: `actioncable-v1-json` has no binary frames.
    /// - The `event` is not written: a Rails broadcast carries only its message, and the
    ///   channel's `received` gets that.
    /// - An `ack` delivery is written as an emit of its data: ActionCable has no acks.
    ///
    /// The identifier is written as ActiveSupport writes strings, not with a client's own
    /// escapes: one fan-out serves every connection subscribed under the same string, and
    /// each client's `JSON.parse` gives back the string it compares. An identifier that is
    /// not a valid one (no `channel`) encodes to nothing; no connection can hold it.
    public static func encode(_ delivery: SocketDelivery, identifier: String) -> [SocketOutbound] {
        guard let identifier = try? ActionCableIdentifier(identifier) else { return [] }
        let message: String
        switch delivery.data {
        case nil:
            message = "null"
        case .json(let text):
            guard Self.isOneJSONValue(text) else { return [] }
            message = text
        case .text(let text):
            var string: [UInt8] = []
            JSONString.encodeLikeActiveSupport(text, into: &string)
            message = String(decoding: string, as: UTF8.self)
        case .binary:
            return []
        }
        return [.text(ActionCableServerMessage.broadcast(identifier, message: message).text)]
    }

    private static func isOneJSONValue(_ text: String) -> Bool {
        var scanner = JSONScanner(Array(text.utf8))
        scanner.skipWhitespace()
        do throws(JSONScanner.Failure) {
            try scanner.skipValue(depth: 0)
        } catch {
            return false
        }
        scanner.skipWhitespace()
        return scanner.isAtEnd
    }
}
