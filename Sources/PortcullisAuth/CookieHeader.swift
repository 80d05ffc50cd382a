/// Reads one cookie out of `Cookie` request headers the way the `cookie` npm module
/// (used by express-session) does: pairs split on `;`, name and value split at the
/// first `=`, both trimmed, surrounding double quotes removed from the value, and the
/// first occurrence of a name wins. Values are returned as sent (still URL-encoded).
public enum CookieHeader {
    /// The raw value of cookie `name`, or nil. Several `Cookie` headers (HTTP/2 may
    /// split them) are read in order as if joined with `; `.
    public static func value(named name: String, in headers: [String]) -> String? {
        for header in headers {
            if let value = value(named: name, in: header) { return value }
        }
        return nil
    }

    public static func value(named name: String, in header: String) -> String? {
        for pair in header.split(separator: ";", omittingEmptySubsequences: true) {
            guard let equals = pair.firstIndex(of: "=") else { continue }
            guard trimmed(pair[..<equals]) == name else { continue }
            var value = trimmed(pair[pair.index(after: equals)...])
            if value.count >= 2, value.first == "\"", value.last == "\"" {
                value = value.dropFirst().dropLast()
            }
            return String(value)
        }
        return nil
    }

    private static func trimmed(_ text: Substring) -> Substring {
        let isText: (Character) -> Bool = { $0 != " " && $0 != "\t" }
        guard let first = text.firstIndex(where: isText), let last = text.lastIndex(where: isText) else { return "" }
        return text[first...last]
    }
}
