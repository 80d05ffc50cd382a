import PortcullisConfig

/// A proxy route to upstream `app` for route table tests; `protected` gives it an `auth:`
/// policy (its contents never matter to routing).
func route(
    _ name: String, host: String? = nil, path: String = "/", methods: [String] = [], listeners: [String] = [],
    protected: Bool = false
) -> Route {
    var route = Route(
        name: name,
        match: RouteMatch(host: host, path: path, methods: methods),
        proxy: ProxyAction(upstream: "app"),
        location: SourceLocation(file: "main.yaml", line: 7, keyPath: "routes")
    )
    route.listeners = listeners
    if protected {
        route.auth = RouteAuth(location: route.location)
    }
    return route
}
