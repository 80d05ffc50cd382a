import Testing

@testable import PortcullisEdge

/// The access log's `path` is the routed path without its query, so tokens and other
/// query parameters never reach the log.
@Suite struct AccessLogPathTests {
    @Test(arguments: [
        ("/api/items?token=secret", "/api/items"),
        ("/api/items", "/api/items"),
        ("/?", "/"),
        ("/a?b?c", "/a"),
        ("/caf%C3%A9?x=1", "/caf%C3%A9"),
    ])
    func theLoggedPathStopsAtTheQuery(target: String, expected: String) {
        #expect(ProxyHandler.pathWithoutQuery(target) == expected)
    }
}
