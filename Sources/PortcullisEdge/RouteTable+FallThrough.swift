import PortcullisConfig

extension RouteTable {
    /// Requests that a route with `auth:` turns away because of its `match.methods` or
    /// `listeners` filter, and that a broader route without `auth:` then answers.
    ///
    /// Method and listener filters only narrow a route: a `GET`-only admin route leaves
    /// `POST /admin` to whatever matches next, which is easy to miss when that is a public
    /// `/` route. This is reported as a warning, not an error: a public fallback may be
    /// intended.
    public struct FallThrough: Sendable, CustomStringConvertible {
        /// The route with `auth:` whose filters let the requests go.
        public let protected: Entry
        /// The broader route without `auth:` that answers them.
        public let fallback: Entry
        /// Methods that fall through on the listeners `protected` is served on, in the
        /// order they were probed (`probeMethods` first).
        public private(set) var methods: [String] = []
        /// Whether methods no route names (`PROPFIND`, ...) fall through as well.
        public private(set) var otherMethods = false
        /// Listeners `protected` is not served on whose requests fall through.
        public private(set) var listeners: [String] = []

        init(protected: Entry, fallback: Entry) {
            self.protected = protected
            self.fallback = fallback
        }

        mutating func add(method: String) {
            if !methods.contains(method) { methods.append(method) }
        }

        mutating func addUnnamedMethods() {
            otherMethods = true
        }

        mutating func add(listener: String) {
            if !listeners.contains(listener) { listeners.append(listener) }
        }

        /// One sentence naming both routes, the filtered methods or listeners and the scope.
        public var description: String {
            let route = protected.route
            var head = "routes[\(protected.index)] \"\(route.name)\" requires auth"
            if !route.match.methods.isEmpty {
                head += " for \(route.match.methods.joined(separator: ", "))"
            }
            head += " on \(RouteTable.scope(of: route))"
            if !route.listeners.isEmpty {
                head +=
                    " (\(RouteTable.listenerWord(route.listeners.count)) \(route.listeners.joined(separator: ", ")))"
            }
            var escaping: [String] = []
            if !methods.isEmpty || otherMethods {
                let shown = methods + (otherMethods ? ["..."] : [])
                escaping.append("other methods (\(shown.joined(separator: ", ")))")
            }
            if !listeners.isEmpty {
                escaping.append(
                    "requests on \(RouteTable.listenerWord(listeners.count)) \(listeners.joined(separator: ", "))")
            }
            return head + ", but \(escaping.joined(separator: " and ")) fall through to routes[\(fallback.index)] "
                + "\"\(fallback.route.name)\" which has none"
        }
    }

    /// The methods tried on each protected route, besides the ones routes name themselves.
    static let probeMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    /// Every way a request for the host and path of a route with `auth:` reaches a broader
    /// route without it, found by asking `match` itself, so the analysis cannot drift from
    /// how requests are really routed.
    ///
    /// For each protected route with a method or listener filter, requests for its exact
    /// path prefix on its host are tried with every method in `probeMethods`, every method
    /// any route names, one method no route names, and on every listener; those the route
    /// turns away and a route without `auth:` on a shorter prefix or a less specific host
    /// answers are reported. A public route on the same host and prefix is taken as
    /// intended and not reported, and so are requests that no route answers (404).
    /// Requests already reported for an earlier protected route on the same host and path
    /// are not reported again.
    ///
    /// - Parameter listeners: the configured listener names.
    public func fallThroughs(listeners: [String]) -> [FallThrough] {
        var methods = Self.probeMethods
        for entry in entries {
            for method in entry.methods.sorted() where !methods.contains(method) {
                methods.append(method)
            }
        }
        var unnamedMethod = "UNNAMED"
        while methods.contains(unnamedMethod) { unnamedMethod += "-" }
        let probeListeners = listeners.isEmpty ? [""] : listeners

        var reported: Set<String> = []
        var found: [FallThrough] = []
        for protected in entries where protected.route.auth != nil {
            if protected.methods.isEmpty && protected.route.listeners.isEmpty { continue }
            let host = probeHost(for: protected.route.match.host)
            var escapes: [FallThrough] = []
            for listener in probeListeners {
                let served = protected.route.listeners.isEmpty || protected.route.listeners.contains(listener)
                for method in methods + [unnamedMethod] {
                    if served && (protected.methods.isEmpty || protected.methods.contains(method)) { continue }
                    guard
                        let fallback = match(host: host, path: protected.prefix, method: method, listener: listener),
                        fallback.route.auth == nil,
                        Self.isBroader(fallback, than: protected),
                        reported.insert("\(host ?? "")\u{0}\(protected.prefix)\u{0}\(listener)\u{0}\(method)").inserted
                    else { continue }
                    let slot =
                        escapes.firstIndex { $0.fallback.index == fallback.index }
                        ?? escapes.endIndex
                    if slot == escapes.endIndex {
                        escapes.append(FallThrough(protected: protected, fallback: fallback))
                    }
                    if !served {
                        escapes[slot].add(listener: listener)
                    } else if method == unnamedMethod {
                        escapes[slot].addUnnamedMethods()
                    } else {
                        escapes[slot].add(method: method)
                    }
                }
            }
            found += escapes
        }
        return found
    }

    /// A `Host` that reaches the host group of `pattern`: the name itself, a label under a
    /// wildcard that no exact route names, or none at all for host-less routes.
    private func probeHost(for pattern: String?) -> String? {
        guard let pattern = pattern?.lowercased() else { return nil }
        guard pattern.hasPrefix("*.") else { return pattern }
        let exactHosts = Set(entries.compactMap { $0.route.match.host?.lowercased() })
        var label = "probe"
        while exactHosts.contains(label + pattern.dropFirst()) { label += "-" }
        return label + pattern.dropFirst()
    }

    /// Whether `candidate` is less specific than `route`: another host group (a wildcard or
    /// host-less route behind an exact host, say) or a shorter prefix in the same one.
    private static func isBroader(_ candidate: Entry, than route: Entry) -> Bool {
        guard candidate.index != route.index else { return false }
        if candidate.route.match.host?.lowercased() != route.route.match.host?.lowercased() { return true }
        return candidate.prefix.utf8.count < route.prefix.utf8.count
    }

    /// `api.example.com/admin`, `*.example.com/admin`, or `/admin (any host)`.
    static func scope(of route: Route) -> String {
        guard let host = route.match.host?.lowercased() else { return "\(route.match.path) (any host)" }
        return host + route.match.path
    }

    static func listenerWord(_ count: Int) -> String {
        count == 1 ? "listener" : "listeners"
    }
}

/// A way around a route's `auth:` that `portcullis check` prints and `serve` logs: the
/// protected route, the route without auth that answers instead, and one sentence.
public protocol RouteAuthWarning: CustomStringConvertible, Sendable {
    var protected: RouteTable.Entry { get }
    var fallback: RouteTable.Entry { get }
}

extension RouteAuthWarning {
    /// `file:line: warning: …` at the protected route, the way `portcullis check` prints
    /// configuration errors, so editors can jump to it.
    public var warningLine: String {
        let location = protected.route.location
        return "\(location.file):\(location.line): warning: \(description)"
    }
}

extension RouteTable.FallThrough: RouteAuthWarning {}
