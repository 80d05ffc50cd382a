import PortcullisConfig

/// The compiled, immutable route table of one configuration snapshot.
///
/// Matching follows the usual edge rules: the most specific host group wins first
/// (exact host, then the longest matching `*.suffix` wildcard, then routes without a
/// host), then the longest path prefix on a segment boundary, then the method filter.
/// Building happens once per snapshot, off the event loops; `match` allocates nothing.
public struct RouteTable: Sendable {
    /// A route ready to serve: the configured route plus its index for metrics and logs.
    /// A class, not a struct: a matched entry travels with every request (into its
    /// exchange, its checks, its log line), and a copy of a `Route` retains each of its
    /// many strings and arrays; a reference is one retain.
    public final class Entry: Sendable {
        public let route: Route
        public let index: Int
        let methods: Set<String>
        let prefix: String

        public var name: String { route.name }

        init(route: Route, index: Int, methods: Set<String>, prefix: String) {
            self.route = route
            self.index = index
            self.methods = methods
            self.prefix = prefix
        }
    }

    private struct Group: Sendable {
        /// Longest prefix first, so the first hit is the best.
        var entries: [Entry]
    }

    private let exact: [String: Group]
    /// `(".example.com", group)` ordered longest suffix first.
    private let wildcards: [(suffix: String, group: Group)]
    private let anyHost: Group?
    public let entries: [Entry]

    public init(routes: [Route]) {
        var exact: [String: [Entry]] = [:]
        var wildcards: [String: [Entry]] = [:]
        var anyHost: [Entry] = []
        var all: [Entry] = []
        for (index, route) in routes.enumerated() {
            let entry = Entry(
                route: route,
                index: index,
                methods: Set(route.match.methods.map { $0.uppercased() }),
                prefix: route.match.path
            )
            all.append(entry)
            switch route.match.host.map({ $0.lowercased() }) {
            case .none:
                anyHost.append(entry)
            case .some(let host) where host.hasPrefix("*."):
                wildcards[String(host.dropFirst()), default: []].append(entry)
            case .some(let host):
                exact[host, default: []].append(entry)
            }
        }
        func group(_ entries: [Entry]) -> Group {
            Group(entries: entries.sorted { $0.prefix.utf8.count > $1.prefix.utf8.count })
        }
        self.exact = exact.mapValues(group)
        self.wildcards = wildcards.map { (suffix: $0.key, group: group($0.value)) }
            .sorted { $0.suffix.utf8.count > $1.suffix.utf8.count }
        self.anyHost = anyHost.isEmpty ? nil : group(anyHost)
        self.entries = all
    }

    /// The route for a request, or nil (404).
    ///
    /// - Parameters:
    ///   - host: the `Host` header, with or without a port; case-insensitive.
    ///   - path: the request target's path (a query string is allowed and ignored).
    ///   - listener: the listener the request arrived on.
    public func match(host: String?, path: String, method: String, listener: String) -> Entry? {
        if exact.isEmpty && wildcards.isEmpty {
            // No route names a host: the common single-site table needs no host at all.
            return anyHost.flatMap { Self.best(in: $0, path: path, method: method, listener: listener) }
        }
        let hostName = host.map(Self.normalizedHost) ?? ""
        if let group = exact[hostName], let hit = Self.best(in: group, path: path, method: method, listener: listener) {
            return hit
        }
        for wildcard in wildcards
        where hostName.hasSuffix(wildcard.suffix) && hostName.utf8.count > wildcard.suffix.utf8.count {
            if let hit = Self.best(in: wildcard.group, path: path, method: method, listener: listener) {
                return hit
            }
        }
        if let anyHost {
            return Self.best(in: anyHost, path: path, method: method, listener: listener)
        }
        return nil
    }

    private static func best(in group: Group, path: String, method: String, listener: String) -> Entry? {
        for entry in group.entries where Self.pathMatches(prefix: entry.prefix, path: path) {
            if !entry.route.listeners.isEmpty && !entry.route.listeners.contains(listener) { continue }
            if !entry.methods.isEmpty && !entry.methods.contains(method) { continue }
            return entry
        }
        return nil
    }

    /// `/api` matches `/api`, `/api/`, `/api/x`, `/api?q` and `/api;jsessionid=1`, never
    /// `/apix`. `;` ends a segment's name because servlet containers strip path
    /// parameters: `/admin;x` reaches their `/admin`, so it must meet `/admin`'s auth.
    static func pathMatches(prefix: String, path: String) -> Bool {
        guard path.hasPrefix(prefix) else { return false }
        if prefix.hasSuffix("/") { return true }
        let rest = path.utf8.dropFirst(prefix.utf8.count)
        guard let next = rest.first else { return true }
        return next == UInt8(ascii: "/") || next == UInt8(ascii: "?") || next == UInt8(ascii: ";")
    }

    /// Lower-cases and drops a `:port` suffix (IPv6 literals keep their brackets).
    static func normalizedHost(_ host: String) -> String {
        var value = Substring(host)
        if value.hasPrefix("[") {
            if let close = value.firstIndex(of: "]") { value = value[...close] }
        } else if let colon = value.lastIndex(of: ":") {
            value = value[..<colon]
        }
        if value.hasSuffix(".") { value = value.dropLast() }
        return value.lowercased()
    }

    /// The request target with the route's prefix removed (`/api/users?x` → `/users?x`).
    static func strip(prefix: String, from target: String) -> String {
        let trimmedPrefix = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        guard target.hasPrefix(trimmedPrefix) else { return target }
        let rest = target.dropFirst(trimmedPrefix.count)
        if rest.isEmpty { return "/" }
        if rest.first == "?" || rest.first == ";" { return "/" + rest }
        return String(rest)
    }
}
