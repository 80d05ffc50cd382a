/// Which `Origin`s may open a connection on a route (Cross-Site WebSocket Hijacking
/// defence, protocols.md §5.4). Entries are exact origins (`https://app.example.com`,
/// `http://localhost:3000`) or one-level wildcards (`https://*.example.com`), built and
/// validated once from configuration.
///
/// Comparison is on the parsed origin: scheme and host lowercased, the default port
/// (80 for http/ws, 443 for https/wss) made explicit. `https://*.example.com` matches
/// any host with one or more labels under `example.com` — not `example.com` itself,
/// not `example.com.evil.net`, not `evil-example.com`, not `http://…`.
///
/// A missing Origin, or the opaque `null`, is refused in `browser` mode (a browser always
/// sends a real one) and allowed in `server` mode (non-browser clients send none). A
/// present Origin must always match.
public struct OriginPolicy: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable {
        case browser
        case server
    }

    /// An allow-list entry that is not an origin.
    public struct InvalidEntry: Error, Sendable, Hashable, CustomStringConvertible {
        public var entry: String
        public var description: String { "not an origin (scheme://host[:port]) or https://*.domain: \(entry)" }
    }

    struct Origin: Sendable, Hashable {
        var scheme: String
        var host: String
        var port: Int
    }

    struct Pattern: Sendable, Hashable {
        var origin: Origin
        /// True for `*.domain`: `origin.host` is the suffix `domain`.
        var isWildcard: Bool

        func matches(_ candidate: Origin) -> Bool {
            guard candidate.scheme == origin.scheme, candidate.port == origin.port else { return false }
            guard isWildcard else { return candidate.host == origin.host }
            let suffix = "." + origin.host
            return candidate.host.hasSuffix(suffix) && candidate.host.count > suffix.count
        }
    }

    public let mode: Mode
    private let patterns: [Pattern]

    public init(allowed: [String], mode: Mode) throws(InvalidEntry) {
        var patterns: [Pattern] = []
        for entry in allowed {
            guard let pattern = Self.pattern(entry) else { throw InvalidEntry(entry: entry) }
            patterns.append(pattern)
        }
        self.patterns = patterns
        self.mode = mode
    }

    /// nil when `origin` (the header value, or nil when absent) may connect, else an
    /// `origin_not_allowed` failure (403).
    public func check(_ origin: String?) -> AuthFailure? {
        guard let origin, origin != "null" else {
            return mode == .server ? nil : AuthFailure(.originNotAllowed, "no Origin header on a browser route")
        }
        guard let parsed = Self.parse(origin[...]), patterns.contains(where: { $0.matches(parsed) }) else {
            return AuthFailure(.originNotAllowed, "Origin \(AuthFailure.quoted(origin)) is not allowed")
        }
        return nil
    }

    public func allows(_ origin: String?) -> Bool {
        check(origin) == nil
    }

    private static func pattern(_ entry: String) -> Pattern? {
        guard let separator = entry.firstRange(of: "://") else { return nil }
        let rest = entry[separator.upperBound...]
        if rest.hasPrefix("*.") {
            let withoutStar = entry[..<separator.upperBound] + rest.dropFirst(2)
            guard let origin = parse(withoutStar[...]), origin.host.contains("."), !origin.host.hasPrefix("[") else {
                return nil
            }
            return Pattern(origin: origin, isWildcard: true)
        }
        return parse(entry[...]).map { Pattern(origin: $0, isWildcard: false) }
    }

    /// `scheme "://" host [":" port]` with nothing after it (browsers send no path and
    /// no trailing slash). Hosts are DNS names or bracketed IPv6; no userinfo.
    static func parse(_ text: Substring) -> Origin? {
        guard let separator = text.firstRange(of: "://") else { return nil }
        let scheme = text[..<separator.lowerBound].lowercased()
        let defaultPort: Int
        switch scheme {
        case "http", "ws": defaultPort = 80
        case "https", "wss": defaultPort = 443
        default: return nil
        }
        let authority = text[separator.upperBound...]
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
            guard host.dropFirst().dropLast().allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                return nil
            }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                host = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            } else {
                host = authority
            }
            let labels = host.split(separator: ".", omittingEmptySubsequences: false)
            guard !host.isEmpty,
                labels.allSatisfy({ label in
                    !label.isEmpty && label.count <= 63
                        && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
                })
            else { return nil }
        }
        var port = defaultPort
        if let portText {
            guard (1...5).contains(portText.count), portText.allSatisfy({ $0.isASCII && $0.isNumber }),
                let number = Int(portText), (1...65535).contains(number)
            else { return nil }
            port = number
        }
        return Origin(scheme: scheme, host: host.lowercased(), port: port)
    }
}
