/// The name of one ActionCable subscription: a JSON object text such as
/// `{"channel":"ChatChannel","room":"1"}`, carried inside every command as a JSON *string*.
///
/// Rails' JS client builds it once per subscription with `JSON.stringify({channel, ...params})`
/// (`subscription.js`) and finds its subscriptions by comparing the `identifier` of each
/// server frame, after `JSON.parse`, with that string (`subscriptions.js`, `findAll`). The
/// Ruby server keys subscriptions by the same decoded string
/// (`Connection::Subscriptions#add`: `subscriptions[id_key]`) and echoes it in every frame
/// for the subscription. So the identifier is opaque: it is never re-serialized, and a
/// session keys its subscriptions by ``string``.
///
/// Invariants: ``string`` is one JSON object with exactly one `channel` member, a
/// non-empty string; ``jsonToken`` is a JSON string literal that decodes to ``string``.
public struct ActionCableIdentifier: Hashable, Sendable {
    /// The decoded identifier, the key Rails and the JS client compare.
    public let string: String
    /// The identifier as a JSON string literal, quotes included, exactly as the client spelled
    /// it (or, for ``init(_:)``, as Rails would). Server frames insert it verbatim, so each
    /// identifier is escaped once, not once per frame, and the client parses back its own
    /// string even where its escapes differ from ours.
    public let jsonToken: String
    /// The identifier's `channel` member, the Rails channel class name (`Chats::RoomChannel`).
    public let channel: String

    /// The channel's params as JSON object text: the identifier itself, `channel` included,
    /// exactly as Rails hands it to the channel (`Channel::Base#params` is the decoded
    /// identifier, `channel` and all).
    public var paramsJSON: String {
        self.string
    }

    /// An identifier we hold decoded (from a bus envelope, a handler, a test); its token is
    /// written as Rails' `ActiveSupport::JSON.encode` would write it.
    public init(_ string: String) throws(ActionCableCommandError) {
        var token: [UInt8] = []
        token.reserveCapacity(string.utf8.count + 16)
        JSONString.encodeLikeActiveSupport(string, into: &token)
        try self.init(string: string, jsonToken: String(decoding: token, as: UTF8.self))
    }

    /// An identifier as a client sent it: `jsonToken` must already decode to `string`.
    init(string: String, jsonToken: String) throws(ActionCableCommandError) {
        self.string = string
        self.jsonToken = jsonToken
        self.channel = try Self.channel(in: string)
    }

    /// The single `channel` member of the identifier's object. Duplicates are refused
    /// rather than resolved last-wins as Ruby and JavaScript would: the edge authorizes by
    /// channel, and a handler parsing ``paramsJSON`` with another rule must never see a
    /// different one.
    private static func channel(in string: String) throws(ActionCableCommandError) -> String {
        guard !string.isEmpty else {
            throw ActionCableCommandError(code: .missingIdentifier, message: "identifier is empty")
        }
        let values: [JSONScanner.MemberValue]
        do throws(JSONScanner.Failure) {
            values = try JSONScanner.values(of: "channel", inObject: string)
        } catch {
            throw ActionCableCommandError(
                code: .malformedIdentifier, message: "identifier is not a JSON object: \(error.message)")
        }
        guard values.count == 1, case .string(let channel) = values[0], !channel.isEmpty else {
            let problem = values.count > 1 ? "has more than one \"channel\"" : "needs \"channel\", a non-empty string"
            throw ActionCableCommandError(code: .invalidChannel, message: "identifier \(problem)")
        }
        return channel
    }
}
