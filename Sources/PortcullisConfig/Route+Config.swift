extension Route {
    /// Decodes one route item of a `routes:` list.
    ///
    /// | Key             | Type                                 | Default          |
    /// |-----------------|--------------------------------------|------------------|
    /// | `name`          | `[A-Za-z0-9_.-]+`, unique everywhere | required         |
    /// | `listeners`     | list of listener names               | every listener   |
    /// | `match`         | mapping (`RouteMatch`)               | required         |
    /// | `proxy`         | mapping (`ProxyAction`)              | this or `socket` |
    /// | `socket`        | mapping (`SocketAction`)             | this or `proxy`  |
    /// | `max_body_size` | size                                 | `16MiB`          |
    /// | `auth`          | mapping (`RouteAuth`)                | public route     |
    /// | `escaped_slashes` | `reject` or `keep`                 | `reject`         |
    ///
    /// `keyLocations` gets every key written in the route, relative to it (`name`,
    /// `listeners`, `listeners[0]`, `match.host`, `proxy.upstream`, ...).
    static func decode(_ reader: ConfigReader) -> Route? {
        reader.mapping { mapping in
            var locations: [String: SourceLocation] = [:]
            func note(_ key: String, in mapping: MappingReader, prefix: String = "") {
                if mapping.optional(key) != nil {
                    locations[prefix + key] = mapping.location(of: key)
                }
            }
            for key in ["name", "listeners", "match", "proxy", "socket", "max_body_size", "auth", "escaped_slashes"] {
                note(key, in: mapping)
            }
            let name = mapping.required("name")?.name(extra: "_-.") ?? ""
            let match = mapping.required("match")?.mapping { match in
                for key in ["host", "path", "methods"] {
                    note(key, in: match, prefix: "match.")
                }
                return RouteMatch.decode(match)
            }
            var route = Route(
                name: name, match: match ?? RouteMatch(), proxy: ProxyAction(upstream: ""), location: reader.location)
            switch (mapping.has("proxy"), mapping.has("socket")) {
            case (true, true):
                mapping.optional("socket")?.fail(
                    "a route either proxies or terminates sockets: give proxy or socket, not both")
            case (false, false):
                _ = mapping.required("proxy")
            case (true, false):
                route.proxy = mapping.optional("proxy")?.mapping { proxy in
                    for key in ["upstream", "strip_prefix", "websocket"] {
                        note(key, in: proxy, prefix: "proxy.")
                    }
                    return ProxyAction.decode(proxy)
                }
            case (false, true):
                route.proxy = nil
                route.socket = mapping.optional("socket").flatMap(SocketAction.decode)
            }
            if let listeners = mapping.optional("listeners") {
                route.listeners =
                    listeners.list { item in
                        locations[String(item.path.dropFirst(reader.path.count + 1))] = item.location
                        return item.name()
                    } ?? []
            }
            if let size = mapping.optional("max_body_size")?.size() {
                route.maxBodySize = size
            }
            if let auth = mapping.optional("auth") {
                route.auth = RouteAuth.decode(auth)
            }
            if let escaped = mapping.optional("escaped_slashes")?.choice(EscapedSlashes.self) {
                route.escapedSlashes = escaped
            }
            route.keyLocations = locations
            return route
        }
    }
}

extension RouteMatch {
    /// Decodes `match:`.
    ///
    /// | Key       | Type                                     | Default     |
    /// |-----------|------------------------------------------|-------------|
    /// | `host`    | host or `*.domain`, lowercased, no port  | any host    |
    /// | `path`    | path prefix starting with `/`            | `/`         |
    /// | `methods` | list of method tokens, uppercased        | any method  |
    static func decode(_ mapping: MappingReader) -> RouteMatch {
        var match = RouteMatch()
        match.host = mapping.optional("host")?.hostPattern()
        if let reader = mapping.optional("path"), let path = reader.string() {
            if !path.hasPrefix("/") {
                reader.fail("must start with \"/\", got \(reader.quoted(path))")
            } else if path.contains(where: { $0 == "?" || $0 == "#" || $0.isWhitespace || !$0.isASCII }) {
                reader.fail(
                    "must be a plain path without query, fragment, spaces or non-ASCII, got \(reader.quoted(path))")
            } else {
                match.path = path
            }
        }
        if let reader = mapping.optional("methods") {
            var methods: [String] = []
            for method in reader.list({ $0.method() }) ?? [] where !methods.contains(method) {
                methods.append(method)
            }
            match.methods = methods
        }
        return match
    }
}

extension ProxyAction {
    /// Decodes `proxy:`.
    ///
    /// | Key            | Type                      | Default  |
    /// |----------------|---------------------------|----------|
    /// | `upstream`     | name of a declared upstream | required |
    /// | `strip_prefix` | bool                      | `false`  |
    /// | `websocket`    | bool                      | `true`   |
    static func decode(_ mapping: MappingReader) -> ProxyAction {
        var proxy = ProxyAction(upstream: mapping.required("upstream")?.string() ?? "")
        if let strip = mapping.optional("strip_prefix")?.bool() {
            proxy.stripPrefix = strip
        }
        if let websocket = mapping.optional("websocket")?.bool() {
            proxy.websocket = websocket
        }
        return proxy
    }
}

extension ConfigReader {
    /// An HTTP method token (RFC 9110 `token`), uppercased.
    fileprivate func method() -> String? {
        guard let text = scalar(expected: "an HTTP method") else { return nil }
        let tokenPunctuation = "!#$%&'*+-.^_`|~"
        guard !text.isEmpty,
            text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || tokenPunctuation.contains($0)) })
        else {
            fail("expected an HTTP method like GET, got \(quoted(text))")
            return nil
        }
        return text.uppercased()
    }
}
