/// The in-band token refresh, which Rails does not have: a client that holds a fresh token
/// sends `{"command":"refresh","token":"<jwt>"}` (the command name is
/// ``ActionCableSession/Configuration/refreshCommand``) and gets exactly one reply:
/// ```
/// {"type":"refreshed","exp":1718003600}        the token verified; exp: its expiry, Unix s (null: none)
/// {"type":"refreshed"}                         no token was needed; identity and expiry stand
/// {"type":"refresh_rejected","reason":"expired"}         refused: the auth failure's code
/// ```
/// A refused refresh changes nothing: the connection keeps its identity and old expiry, and
/// is closed when that comes. Rails' JS client ignores frames of an unknown `type`
/// (`connection.js` only switches on the ones it knows), so these reach app code only
/// through a custom consumer.
extension ActionCableSession {
    /// `{"type":"refreshed","exp":<Unix seconds>}`, or `"exp":null` for a token without expiry.
    public static func refreshedFrame(expiresAt: Int64?) -> String {
        #"{"type":"refreshed","exp":"# + (expiresAt.map(String.init) ?? "null") + "}"
    }

    /// The answer to a refresh the edge did not need (``SocketVerificationOutcome/notRequired``).
    public static let refreshedUnchangedFrame = #"{"type":"refreshed"}"#

    /// `{"type":"refresh_rejected","reason":<code>}`, the code written as Rails writes strings.
    public static func refreshRejectedFrame(code: String) -> String {
        var frame = Array(#"{"type":"refresh_rejected","reason":"#.utf8)
        JSONString.encodeLikeActiveSupport(code, into: &frame)
        frame.append(UInt8(ascii: "}"))
        return String(decoding: frame, as: UTF8.self)
    }

    /// The verification a refresh command asks for, or nil when `text` (a frame that decoded
    /// to an unknown command, so one valid JSON object) is not the refresh command. A
    /// `token` that is missing, empty, not a string or given twice is offered as none, so
    /// the edge refuses it (or finds it not needed) and the client still gets its answer.
    func refreshRequest(in text: String) -> SocketVerification? {
        guard let name = self.configuration.refreshCommand,
            (try? JSONScanner.values(of: "command", inObject: text)) == [.string(name)]
        else { return nil }
        var token: String?
        if let values = try? JSONScanner.values(of: "token", inObject: text), values.count == 1,
            case .string(let value) = values[0], !value.isEmpty
        {
            token = value
        }
        return SocketVerification(token: token, purpose: .refresh(namespace: nil, ack: nil))
    }
}
