import PortcullisConfig

/// Finds a credential in the places a route may name, over plain values the edge
/// already has (header strings, the request target, a parsed CONNECT payload). Each
/// returns nil when that place holds no usable token; the route tries its sources in
/// order and the first token found is verified (a bad token there is not skipped in
/// favour of a later source).
public enum TokenExtraction {
    /// The token in `Authorization: Bearer <token>` (RFC 6750 §2.1): scheme matched
    /// case-insensitively, exactly one space, then a `b64token` (`A-Z a-z 0-9 - . _ ~ + /`
    /// then optional `=`s).
    public static func bearer(authorization: String) -> String? {
        let utf8 = authorization.utf8
        guard utf8.count > 7 else { return nil }
        let scheme = authorization.utf8.prefix(6)
        guard String(decoding: scheme, as: UTF8.self).lowercased() == "bearer",
            utf8[utf8.index(utf8.startIndex, offsetBy: 6)] == UInt8(ascii: " ")
        else { return nil }
        let token = Substring(authorization.utf8.dropFirst(7))
        guard BearerTokenSyntax.isValid(token) else { return nil }
        return String(token)
    }

    /// The first `name` parameter of the query in a raw request target
    /// (`/socket.io/?EIO=4&token=...`), percent-decoded as URLSearchParams does (`+` is a
    /// space). nil when absent, empty, or badly encoded.
    public static func queryParameter(_ name: String, target: String) -> String? {
        guard let question = target.firstIndex(of: "?") else { return nil }
        var query = target[target.index(after: question)...]
        if let hash = query.firstIndex(of: "#") { query = query[..<hash] }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let equals = pair.firstIndex(of: "=") ?? pair.endIndex
            guard PercentDecoding.decode(pair[..<equals], plusAsSpace: true) == name else { continue }
            guard equals < pair.endIndex else { return nil }
            let value = PercentDecoding.decode(pair[pair.index(after: equals)...], plusAsSpace: true)
            return value?.isEmpty == false ? value : nil
        }
        return nil
    }

    /// Cookie `name` from the `Cookie` header(s), URL-decoded like the `cookie` npm
    /// module (kept raw when it does not decode).
    public static func cookie(_ name: String, headers: [String]) -> String? {
        guard let raw = CookieHeader.value(named: name, in: headers), !raw.isEmpty else { return nil }
        return PercentDecoding.decode(raw) ?? raw
    }

    /// The prefix marking the token entry in `Sec-WebSocket-Protocol`.
    public static let webSocketProtocolPrefix = "access_token."

    /// A token carried as a WebSocket subprotocol, for browsers, which cannot set
    /// `Authorization` on a WebSocket: the client offers
    /// `new WebSocket(url, ["chat.v2", "access_token." + jwt])`. The entry is one RFC
    /// 6455 token (JWTs are base64url and dots, all allowed). Returns the token and the
    /// other offered protocols, from which the edge must pick the one to echo — never the
    /// token entry.
    public static func webSocketProtocol(
        headers: [String], prefix: String = webSocketProtocolPrefix
    ) -> (token: String, otherProtocols: [String])? {
        var token: String?
        var others: [String] = []
        for header in headers {
            for item in header.split(separator: ",") {
                let entry = item.trimmingSpaces()
                guard !entry.isEmpty else { continue }
                if token == nil, entry.hasPrefix(prefix), entry.count > prefix.count {
                    token = String(entry.dropFirst(prefix.count))
                } else if !entry.hasPrefix(prefix) {
                    others.append(String(entry))
                }
            }
        }
        return token.map { ($0, others) }
    }

    /// `token` (or `key`) from the JSON `auth` object a Socket.IO client sends in its
    /// CONNECT packet (`40{"token":"..."}`); `payload` is the JSON text after the packet
    /// type and namespace. nil unless it is an object with a non-empty string there.
    public static func socketIOAuth(payload: String, key: String = "token") -> String? {
        guard let object = JSONValue.parse(payload)?.objectValue, let token = object[key]?.stringValue,
            !token.isEmpty
        else { return nil }
        return token
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        let isText: (Character) -> Bool = { $0 != " " && $0 != "\t" }
        guard let first = firstIndex(where: isText), let last = lastIndex(where: isText) else { return "" }
        return self[first...last]
    }
}
