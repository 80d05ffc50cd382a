import PortcullisConfig
import Testing

@testable import PortcullisEdge

private func warnings(_ routes: [Route], listeners: [String] = ["public"]) -> [String] {
    RouteTable(routes: routes).fallThroughs(listeners: listeners).map(\.description)
}

/// `RouteTable.fallThroughs`: requests an auth route's filters let through to a broader
/// route without auth.
@Suite struct RouteFallThroughTests {
    @Test func methodFilteredAuthRouteOverAPublicPrefixIsReported() {
        let routes = [
            route("public", host: "api.example.com"),
            route("admin-read", host: "api.example.com", path: "/admin", methods: ["GET", "HEAD"], protected: true),
        ]

        #expect(
            warnings(routes) == [
                "routes[1] \"admin-read\" requires auth for GET, HEAD on api.example.com/admin, but other methods "
                    + "(POST, PUT, PATCH, DELETE, OPTIONS, ...) fall through to routes[0] \"public\" which has none"
            ]
        )
        let fallThrough = RouteTable(routes: routes).fallThroughs(listeners: ["public"]).first
        #expect(fallThrough?.warningLine.hasPrefix("main.yaml:7: warning: routes[1] \"admin-read\"") == true)
    }

    @Test func headIsReportedWhenOnlyGetRequiresAuth() {
        let routes = [
            route("public"),
            route("admin-read", path: "/admin", methods: ["GET"], protected: true),
        ]

        let found = RouteTable(routes: routes).fallThroughs(listeners: ["public"])

        #expect(found.count == 1)
        #expect(found.first?.methods.first == "HEAD")
    }

    @Test func nothingIsReportedWithoutABroaderRoute() {
        let routes = [
            route("admin-read", host: "api.example.com", path: "/admin", methods: ["GET", "HEAD"], protected: true),
            route("other-host", host: "www.example.com"),
            route("sibling", host: "api.example.com", path: "/administrators"),
        ]

        #expect(warnings(routes).isEmpty)
    }

    @Test func nothingIsReportedWhenTheBroaderRouteAlsoRequiresAuth() {
        let routes = [
            route("api", host: "api.example.com", protected: true),
            route("admin-read", host: "api.example.com", path: "/admin", methods: ["GET"], protected: true),
        ]

        #expect(warnings(routes).isEmpty)
    }

    @Test func aPublicRouteOnTheSameHostAndPathIsTakenAsIntended() {
        let routes = [
            route("public", host: "api.example.com"),
            route("admin-read", host: "api.example.com", path: "/admin", methods: ["GET", "HEAD"], protected: true),
            route("admin-write", host: "api.example.com", path: "/admin", methods: ["POST"]),
            route("admin-rest", host: "api.example.com", path: "/admin", protected: true),
        ]

        #expect(warnings(routes).isEmpty)
    }

    @Test func methodsAnotherAuthRouteCoversDoNotFallThrough() {
        let routes = [
            route("public"),
            route("admin-read", path: "/admin", methods: ["GET", "HEAD"], protected: true),
            route("admin-write", path: "/admin", methods: ["POST", "PUT", "PATCH", "DELETE"], protected: true),
        ]

        #expect(
            warnings(routes) == [
                "routes[1] \"admin-read\" requires auth for GET, HEAD on /admin (any host), but other methods "
                    + "(OPTIONS, ...) fall through to routes[0] \"public\" which has none"
            ]
        )
    }

    @Test func anExactHostAuthRouteFallsThroughToAWildcardHostRoute() {
        let routes = [
            route("wildcard", host: "*.example.com"),
            route("admin", host: "api.example.com", path: "/admin", methods: ["GET"], protected: true),
        ]

        #expect(
            warnings(routes) == [
                "routes[1] \"admin\" requires auth for GET on api.example.com/admin, but other methods "
                    + "(HEAD, POST, PUT, PATCH, DELETE, OPTIONS, ...) fall through to routes[0] \"wildcard\" "
                    + "which has none"
            ]
        )
    }

    @Test func aWildcardHostAuthRouteFallsThroughToAHostlessRoute() {
        let routes = [
            route("catch-all", path: "/"),
            route("admin", host: "*.example.com", path: "/admin", methods: ["GET"], protected: true),
            route("probe-host", host: "probe.example.com", protected: true),
        ]

        #expect(
            warnings(routes) == [
                "routes[1] \"admin\" requires auth for GET on *.example.com/admin, but other methods "
                    + "(HEAD, POST, PUT, PATCH, DELETE, OPTIONS, ...) fall through to routes[0] \"catch-all\" "
                    + "which has none"
            ]
        )
    }

    @Test func aHostlessAuthRouteFallsThroughToAShorterHostlessPrefix() {
        let routes = [
            route("root"),
            route("api", path: "/api"),
            route("admin", path: "/api/admin", methods: ["DELETE"], protected: true),
        ]

        let found = RouteTable(routes: routes).fallThroughs(listeners: ["public"])

        #expect(found.map(\.fallback.name) == ["api"])
        #expect(found.first?.methods == ["GET", "HEAD", "POST", "PUT", "PATCH", "OPTIONS"])
    }

    @Test func listenerFilteredAuthRouteIsReportedForTheOtherListeners() {
        let routes = [
            route("public", host: "api.example.com"),
            route("admin", host: "api.example.com", path: "/admin", listeners: ["external"], protected: true),
        ]

        #expect(
            warnings(routes, listeners: ["external", "internal", "metrics"]) == [
                "routes[1] \"admin\" requires auth on api.example.com/admin (listener external), but requests on "
                    + "listeners internal, metrics fall through to routes[0] \"public\" which has none"
            ]
        )
    }

    @Test func methodAndListenerFiltersAreReportedTogether() {
        let routes = [
            route("public"),
            route("admin", path: "/admin", methods: ["GET"], listeners: ["external"], protected: true),
        ]

        #expect(
            warnings(routes, listeners: ["external", "internal"]) == [
                "routes[1] \"admin\" requires auth for GET on /admin (any host) (listener external), but other "
                    + "methods (HEAD, POST, PUT, PATCH, DELETE, OPTIONS, ...) and requests on listener internal "
                    + "fall through to routes[0] \"public\" which has none"
            ]
        )
    }

    @Test func aFallbackServedOnlyOnSomeListenersIsReportedOnlyThere() {
        let routes = [
            route("internal-only", listeners: ["internal"]),
            route("admin", path: "/admin", listeners: ["external"], protected: true),
        ]

        let found = RouteTable(routes: routes).fallThroughs(listeners: ["external", "internal", "metrics"])

        #expect(found.map(\.listeners) == [["internal"]])
    }

    @Test func routesWithoutFiltersOrWithoutAuthAreNeverTheProtectedSide() {
        let routes = [
            route("public"),
            route("admin", path: "/admin", protected: true),
            route("reports", path: "/reports", methods: ["GET"]),
        ]

        #expect(warnings(routes, listeners: ["public", "internal"]).isEmpty)
    }
}
