/// The validate pass: checks that need the whole decoded configuration (names that must
/// be unique across files, references between sections, files that must exist). Runs
/// after decoding even when decoding reported errors, skipping values that failed to
/// decode (empty names, port 0), so one load reports everything.
struct ConfigValidator {
    var decoded: DecodedConfiguration

    private var configuration: Configuration { decoded.configuration }

    func validate() -> [ConfigError] {
        var errors: [ConfigError] = []
        errors += checkListeners()
        errors += checkUpstreamNames()
        errors += checkRoutes()
        errors += checkShadowedRoutes()
        errors += checkFiles()
        errors += checkAuth()
        errors += checkPublishing()
        return errors
    }

    /// The publish API writes to the bus, and its `/emit` endpoints need one route to
    /// deliver to: two would make the same request mean two different things.
    private func checkPublishing() -> [ConfigError] {
        var errors: [ConfigError] = []
        if let publish = configuration.admin.publish, configuration.redis == nil {
            errors.append(
                ConfigError(
                    .missingKey, location: publish.location,
                    message: "publishing needs redis.url (published messages travel over Redis Streams)"))
        }
        var first: (route: Route, endpoints: SocketAction.EmitEndpoints)?
        for route in configuration.routes {
            guard let endpoints = route.socket?.emitEndpoints else { continue }
            if let first {
                errors.append(
                    ConfigError(
                        .duplicate, location: endpoints.location,
                        message: "only one socket route may declare emit_endpoints; route \"\(first.route.name)\" "
                            + "already does (\(Self.place(first.endpoints.location)))"))
            } else {
                first = (route, endpoints)
            }
        }
        return errors
    }

    /// Route auth policies must name material that exists: a key set for JWT, cookie
    /// secrets and Redis for sessions, an Origin allow-list for browser routes.
    private func checkAuth() -> [ConfigError] {
        var errors: [ConfigError] = []
        let keySets = configuration.auth.keySets.keys.sorted()
        for (name, sources) in configuration.auth.keySets where sources.isEmpty {
            errors.append(
                ConfigError(
                    .invalidValue,
                    location: configuration.auth.location ?? SourceLocation(file: "", line: 0, keyPath: "auth"),
                    message: "key set \"\(name)\" has no key sources")
            )
        }
        for route in configuration.routes {
            guard let auth = route.auth else { continue }
            if auth.methods.contains(.jwt) {
                if let keySet = auth.keySet {
                    if configuration.auth.keySets[keySet] == nil {
                        errors.append(
                            ConfigError(
                                .unknownReference, location: auth.location(of: "key_set"),
                                message: "no key set named \"\(keySet)\" under auth.key_sets"
                                    + Self.hint(keySet, among: keySets))
                        )
                    }
                } else {
                    errors.append(
                        ConfigError(
                            .missingKey, location: auth.location,
                            message: "jwt needs key_set (a name under auth.key_sets)"))
                }
            }
            if auth.methods.contains(.session) {
                if configuration.auth.cookieSecretsFile == nil {
                    errors.append(
                        ConfigError(
                            .missingKey, location: auth.location(of: "methods"),
                            message: "session needs auth.cookie_secrets_file"))
                }
                if configuration.redis == nil {
                    errors.append(
                        ConfigError(
                            .missingKey, location: auth.location(of: "methods"),
                            message: "session needs redis.url (sessions are looked up in Redis)"))
                }
            }
            if auth.socketIDHeader != nil && configuration.redis == nil {
                errors.append(
                    ConfigError(
                        .missingKey, location: auth.location(of: "socket_id_header"),
                        message: "socket_id_header needs redis.url (live sockets are looked up there)"))
            }
            if auth.clients == .browser && auth.origins.isEmpty && auth.keyLocations["origins"] == nil {
                errors.append(
                    ConfigError(
                        .missingKey, location: auth.location(of: "clients"),
                        message: "browser routes need origins (an allow-list of https://… origins)"))
            }
        }
        return errors
    }

    private func checkListeners() -> [ConfigError] {
        var errors: [ConfigError] = []
        var names: [String: Listener] = [:]
        var bound: [Listener] = []
        for listener in configuration.listeners {
            if !listener.name.isEmpty {
                if let first = names[listener.name] {
                    errors.append(
                        ConfigError(
                            .duplicate,
                            location: listener.location,
                            message:
                                "duplicate listener name \"\(listener.name)\" (first at \(Self.place(first.location)))"
                        )
                    )
                } else {
                    names[listener.name] = listener
                }
            }
            if let other = bound.first(where: { Self.overlaps($0.address, listener.address) }) {
                errors.append(
                    ConfigError(
                        .duplicate,
                        location: listener.location,
                        message: "address \(listener.address) is already used by listener \"\(other.name)\" "
                            + "(\(other.address) at \(Self.place(other.location)))"
                    )
                )
            } else if listener.address.port != 0 {
                bound.append(listener)
            }
        }
        let admin = configuration.admin
        if let other = bound.first(where: { Self.overlaps($0.address, admin.address) }) {
            let location =
                admin.location
                ?? configuration.files.first.map { SourceLocation(file: $0, line: 0, keyPath: "admin.address") }
            errors.append(
                ConfigError(
                    .duplicate,
                    location: location,
                    message: "admin address \(admin.address) is already used by listener \"\(other.name)\" "
                        + "(\(other.address) at \(Self.place(other.location)))"
                )
            )
        }
        return errors
    }

    private func checkUpstreamNames() -> [ConfigError] {
        var errors: [ConfigError] = []
        var first: [String: Upstream] = [:]
        for upstream in decoded.upstreams {
            if let earlier = first[upstream.name] {
                errors.append(
                    ConfigError(
                        .duplicate,
                        location: upstream.location,
                        message:
                            "duplicate upstream name \"\(upstream.name)\" (first at \(Self.place(earlier.location)))"
                    )
                )
            } else {
                first[upstream.name] = upstream
            }
        }
        return errors
    }

    private func checkRoutes() -> [ConfigError] {
        var errors: [ConfigError] = []
        var names: [String: Route] = [:]
        let listenerNames = configuration.listeners.map(\.name).filter { !$0.isEmpty }
        let upstreamNames = Array(configuration.upstreams.keys).sorted()
        for route in configuration.routes {
            if !route.name.isEmpty {
                if let first = names[route.name] {
                    errors.append(
                        ConfigError(
                            .duplicate,
                            location: route.location(of: "name"),
                            message: "duplicate route name \"\(route.name)\" "
                                + "(first at \(Self.place(first.location(of: "name"))))"
                        )
                    )
                } else {
                    names[route.name] = route
                }
            }
            for (index, listener) in route.listeners.enumerated()
            where decoded.listenersComplete && !listenerNames.contains(listener) {
                errors.append(
                    ConfigError(
                        .unknownReference,
                        location: route.keyLocations["listeners[\(index)]"] ?? route.location(of: "listeners"),
                        message: "no listener named \"\(listener)\"" + Self.hint(listener, among: listenerNames)
                    )
                )
            }
            if route.socket != nil, configuration.redis == nil {
                errors.append(
                    ConfigError(
                        .missingKey, location: route.location(of: "socket"),
                        message: "socket routes need redis.url (their messages travel over Redis Streams)"))
            }
            let upstream = route.proxy?.upstream ?? ""
            if decoded.upstreamsComplete, !upstream.isEmpty, configuration.upstreams[upstream] == nil {
                errors.append(
                    ConfigError(
                        .unknownReference,
                        location: route.location(of: "proxy.upstream"),
                        message: "no upstream named \"\(upstream)\"" + Self.hint(upstream, among: upstreamNames)
                    )
                )
            }
        }
        return errors
    }

    /// Two routes with the same host, path, methods and listeners: whichever the route
    /// table puts second can never match, which is always a mistake (often a copied route).
    private func checkShadowedRoutes() -> [ConfigError] {
        struct MatchKey: Hashable {
            var host: String?
            var path: String
            var methods: Set<String>
            var listeners: Set<String>
        }
        var errors: [ConfigError] = []
        var seen: [MatchKey: Route] = [:]
        for route in configuration.routes where !decoded.incompleteRoutes.contains(route.location) {
            let key = MatchKey(
                host: route.match.host,
                path: route.match.path,
                methods: Set(route.match.methods),
                listeners: Set(route.listeners)
            )
            if let first = seen[key] {
                errors.append(
                    ConfigError(
                        .duplicate,
                        location: route.location(of: "match"),
                        message: "same host, path, methods and listeners as route \"\(first.name)\" "
                            + "(\(Self.place(first.location))); one of them could never match"
                    )
                )
            } else {
                seen[key] = route
            }
        }
        return errors
    }

    private func checkFiles() -> [ConfigError] {
        var errors: [ConfigError] = []
        for reference in decoded.fileReferences {
            if let reason = ConfFile.missingFileReason(reference.path) {
                errors.append(
                    ConfigError(.missingFile, location: reference.location, message: "\(reference.path): \(reason)")
                )
            }
        }
        for tls in configuration.listeners.map(\.tls) + [configuration.admin.tls] {
            var served: [String: Int] = [:]
            for (index, certificate) in (tls?.certificates ?? []).enumerated() {
                for name in certificate.serverNames {
                    if let first = served[name] {
                        errors.append(
                            ConfigError(
                                .duplicate,
                                location: certificate.location,
                                message:
                                    "server name \"\(name)\" is already served by certificates[\(first)] of this listener"
                            )
                        )
                    } else {
                        served[name] = index
                    }
                }
            }
        }
        return errors
    }

    /// Whether two listen addresses cannot both be bound: same port and the same host, or
    /// either a wildcard address. Port 0 (pick any port) never overlaps.
    static func overlaps(_ a: HostPort, _ b: HostPort) -> Bool {
        guard a.port == b.port, a.port != 0 else { return false }
        let wildcards: Set<String> = ["0.0.0.0", "::"]
        return a.host.lowercased() == b.host.lowercased() || wildcards.contains(a.host) || wildcards.contains(b.host)
    }

    private static func place(_ location: SourceLocation) -> String {
        location.line > 0 ? "\(location.file):\(location.line)" : location.file
    }

    private static func hint(_ name: String, among names: [String]) -> String {
        if let suggestion = Suggestion.closest(to: name, among: names) {
            return " (did you mean \"\(suggestion)\"?)"
        }
        if names.isEmpty {
            return " (none are declared)"
        }
        return names.count <= 8 ? " (declared: \(names.joined(separator: ", ")))" : ""
    }
}
