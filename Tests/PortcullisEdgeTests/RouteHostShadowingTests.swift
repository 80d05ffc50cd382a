import PortcullisConfig
import Testing

@testable import PortcullisEdge

private func shadowings(_ routes: [Route]) -> [String] {
    RouteTable(routes: routes).hostShadowings(listeners: ["public"]).map(\.description)
}

/// `RouteTable.hostShadowings`: an auth route for any host (or a wildcard) whose path a
/// more specific host answers without auth.
@Suite struct RouteHostShadowingTests {
    @Test func aHostlessAuthRouteShadowedByAnExactHostCatchAllIsReported() {
        let routes = [
            route("api", host: "api.example.com"),
            route("admin", path: "/admin", protected: true),
            route("www", host: "www.example.com", path: "/site"),
        ]

        #expect(
            shadowings(routes) == [
                "routes[1] \"admin\" requires auth on /admin (any host), but on host api.example.com requests for it "
                    + "go to routes[0] \"api\" which has none"
            ])
    }

    @Test func aWildcardAuthRouteShadowedByAnExactHostIsReportedAndAHostlessOneByAWildcard() {
        let routes = [
            route("tenant-admin", host: "*.example.com", path: "/admin", protected: true),
            route("shop", host: "shop.example.com"),
            route("other", host: "other.test"),
            route("global-admin", path: "/ops", protected: true),
            route("tenants", host: "*.tenants.test"),
        ]

        #expect(
            shadowings(routes) == [
                "routes[0] \"tenant-admin\" requires auth on *.example.com/admin, but on host shop.example.com "
                    + "requests for it go to routes[1] \"shop\" which has none",
                "routes[3] \"global-admin\" requires auth on /ops (any host), but on host shop.example.com "
                    + "requests for it go to routes[1] \"shop\" which has none",
                "routes[3] \"global-admin\" requires auth on /ops (any host), but on host other.test "
                    + "requests for it go to routes[2] \"other\" which has none",
                "routes[3] \"global-admin\" requires auth on /ops (any host), but on host *.tenants.test "
                    + "requests for it go to routes[4] \"tenants\" which has none",
            ])
    }

    @Test func nothingIsReportedWhenTheSpecificHostProtectsThePathOrHasNoRouteForIt() {
        let guarded = [
            route("api", host: "api.example.com", protected: true),
            route("admin", path: "/admin", protected: true),
        ]
        #expect(shadowings(guarded).isEmpty)
        let narrow = [
            route("api-docs", host: "api.example.com", path: "/docs"),
            route("admin", path: "/admin", protected: true),
        ]
        #expect(shadowings(narrow).isEmpty)
        let exactAuth = [
            route("api", host: "api.example.com"),
            route("api-admin", host: "api.example.com", path: "/admin", protected: true),
        ]
        #expect(shadowings(exactAuth).isEmpty)
    }
}
