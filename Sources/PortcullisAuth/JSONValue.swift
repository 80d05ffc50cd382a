/// A parsed JSON document as the auth code needs it: JWS headers and payloads, JWKS
/// files, connect-redis session records, Socket.IO `auth` payloads.
///
/// Numbers keep their source text, so a claim copied into `Identity.claims` or
/// re-serialised into `claimsJSON` is exactly what the issuer signed. Objects keep member
/// order and, because the parser refuses duplicate names, each name appears once — a
/// header cannot carry two `alg`s that two parsers would read differently.
enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The number's text as written (validated JSON number syntax).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var doubleValue: Double? {
        if case .number(let text) = self { return Double(text) }
        return nil
    }

    var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// A string as itself, anything else as compact JSON text (how `Identity.claims`
    /// holds non-string claims).
    var textValue: String {
        if case .string(let value) = self { return value }
        return serialized()
    }
}

/// A JSON object with members in source order and unique names. Lookups are linear:
/// tokens and JWKS entries have a handful of members.
struct JSONObject: Sendable, Hashable {
    struct Member: Sendable, Hashable {
        var name: String
        var value: JSONValue
    }

    var members: [Member] = []

    init(_ members: [Member] = []) {
        self.members = members
    }

    subscript(name: String) -> JSONValue? {
        get {
            for member in members where member.name == name {
                return member.value
            }
            return nil
        }
        set {
            if let index = members.firstIndex(where: { $0.name == name }) {
                if let newValue {
                    members[index].value = newValue
                } else {
                    members.remove(at: index)
                }
            } else if let newValue {
                members.append(Member(name: name, value: newValue))
            }
        }
    }

    /// Follows a dotted path (`passport.user`, `user.id`) through nested objects.
    func value(atPath path: String) -> JSONValue? {
        var current = JSONValue.object(self)
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard let object = current.objectValue, let next = object[String(part)] else { return nil }
            current = next
        }
        return current
    }
}
