import PortcullisConfig

extension RouteTable {
    /// A route with `auth:` for any host (or a wildcard) whose path, on some more specific
    /// host, is answered by a route without `auth:`.
    ///
    /// Host groups are matched before paths: with a host-less `/admin` route that requires
    /// auth and a public `/` route for `api.example.com`, `api.example.com/admin` goes to
    /// the public route, whose backend may well serve `/admin`. Reported as a warning, not
    /// an error: the host may really have no admin area.
    public struct HostShadowing: RouteAuthWarning {
        public let protected: Entry
        public let fallback: Entry
        /// Hosts on which the protected path reaches `fallback`, in table order.
        public private(set) var hosts: [String] = []

        init(protected: Entry, fallback: Entry) {
            self.protected = protected
            self.fallback = fallback
        }

        mutating func add(host: String) {
            if !hosts.contains(host) { hosts.append(host) }
        }

        public var description: String {
            "routes[\(protected.index)] \"\(protected.name)\" requires auth on "
                + "\(RouteTable.scope(of: protected.route)), but on \(hosts.count == 1 ? "host" : "hosts") "
                + "\(hosts.joined(separator: ", ")) requests for it go to routes[\(fallback.index)] "
                + "\"\(fallback.name)\" which has none"
        }
    }

    /// Every more specific host on which the path of a host-less or wildcard route with
    /// `auth:` is answered by a route without it, found by asking `match` itself.
    ///
    /// For each such protected route, requests for its path prefix are tried on every
    /// exact host the table names (and, for a host-less route, a label under every
    /// wildcard) that the protected route would otherwise cover, with one of its methods,
    /// on one of its listeners.
    public func hostShadowings(listeners: [String]) -> [HostShadowing] {
        let exactHosts = entries.compactMap { $0.route.match.host?.lowercased() }.filter { !$0.hasPrefix("*.") }
        let wildcards = entries.compactMap { $0.route.match.host?.lowercased() }.filter { $0.hasPrefix("*.") }
        var found: [HostShadowing] = []
        for protected in entries where protected.route.auth != nil {
            let pattern = protected.route.match.host?.lowercased()
            if let pattern, !pattern.hasPrefix("*.") { continue }
            var candidates = exactHosts.filter { Self.host($0, isCoveredBy: pattern) }
            if pattern == nil {
                candidates += wildcards.map { "shadow-probe" + $0.dropFirst() }
            }
            let method = protected.route.match.methods.first ?? "GET"
            let listener = protected.route.listeners.first ?? listeners.first ?? ""
            var shadows: [HostShadowing] = []
            for host in candidates {
                guard
                    let fallback = match(host: host, path: protected.prefix, method: method, listener: listener),
                    fallback.index != protected.index, fallback.route.auth == nil,
                    fallback.route.match.host?.lowercased() != pattern
                else { continue }
                let slot = shadows.firstIndex { $0.fallback.index == fallback.index } ?? shadows.endIndex
                if slot == shadows.endIndex { shadows.append(HostShadowing(protected: protected, fallback: fallback)) }
                shadows[slot].add(host: fallback.route.match.host?.lowercased() ?? host)
            }
            found += shadows
        }
        return found
    }

    /// Whether `host` is in the host group of `pattern` (nil: any host).
    private static func host(_ host: String, isCoveredBy pattern: String?) -> Bool {
        guard let pattern else { return true }
        let suffix = pattern.dropFirst()
        return host.hasSuffix(suffix) && host.count > suffix.count
    }
}
