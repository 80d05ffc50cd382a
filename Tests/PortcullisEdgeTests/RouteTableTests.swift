import PortcullisConfig
import Testing

@testable import PortcullisEdge

@Suite struct RouteTableTests {
    let table = RouteTable(routes: [
        route("root"),
        route("api", path: "/api"),
        route("api-v2", path: "/api/v2/"),
        route("api-host", host: "api.example.com", path: "/"),
        route("wild", host: "*.example.com", path: "/"),
        route("deep-wild", host: "*.eu.example.com", path: "/"),
        route("post-only", host: "upload.test", path: "/", methods: ["POST"]),
        route("internal", host: "internal.test", path: "/", listeners: ["local"]),
    ])

    func name(_ host: String?, _ path: String, _ method: String = "GET", listener: String = "public") -> String? {
        table.match(host: host, path: path, method: method, listener: listener)?.name
    }

    @Test func longestPathPrefixWins() {
        #expect(name("other.test", "/api/users") == "api")
        #expect(name("other.test", "/api/v2/users") == "api-v2")
        #expect(name("other.test", "/") == "root")
    }

    @Test func prefixMatchesOnSegmentBoundariesOnly() {
        #expect(name(nil, "/apix") == "root")
        #expect(name(nil, "/api") == "api")
        #expect(name(nil, "/api?q=1") == "api")
    }

    @Test func exactHostBeatsWildcardAndHostIsCaseAndPortInsensitive() {
        #expect(name("API.example.com:8443", "/x") == "api-host")
        #expect(name("www.example.com", "/x") == "wild")
        #expect(name("a.eu.example.com", "/x") == "deep-wild")
    }

    @Test func wildcardNeverMatchesTheBareDomainOrLookAlikes() {
        #expect(name("example.com", "/x") == "root")
        #expect(name("evilexample.com", "/x") == "root")
        #expect(name("example.com.evil.net", "/x") == "root")
    }

    @Test func methodFilterFallsThroughToOtherRoutes() {
        #expect(name("upload.test", "/", "POST") == "post-only")
        #expect(name("upload.test", "/", "GET") == "root")
    }

    @Test func listenerRestrictionIsHonoured() {
        #expect(name("internal.test", "/", listener: "local") == "internal")
        #expect(name("internal.test", "/", listener: "public") == "root")
    }

    @Test func noRouteWithoutCatchAll() {
        let table = RouteTable(routes: [route("only", host: "a.test", path: "/a")])
        #expect(table.match(host: "a.test", path: "/b", method: "GET", listener: "x") == nil)
        #expect(table.match(host: "b.test", path: "/a", method: "GET", listener: "x") == nil)
    }

    @Test func stripPrefixKeepsQueryAndRoot() {
        #expect(RouteTable.strip(prefix: "/api", from: "/api/users?x=1") == "/users?x=1")
        #expect(RouteTable.strip(prefix: "/api", from: "/api") == "/")
        #expect(RouteTable.strip(prefix: "/api", from: "/api?x=1") == "/?x=1")
        #expect(RouteTable.strip(prefix: "/api/", from: "/api/users") == "/users")
        #expect(RouteTable.strip(prefix: "/", from: "/users") == "/users")
    }
}
