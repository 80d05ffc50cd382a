import PortcullisConfig
import Testing

/// The strict request path's listener keys (limits, slashes, underscores, server name,
/// trusted proxies, PROXY protocol) and the route's `escaped_slashes`.
@Suite struct RequestPolicyConfigTests {
    @Test func listenerAndRouteKeysDecodeWithSafeDefaults() throws {
        let conf = try ConfDirectory()
        try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - {name: plain, address: 127.0.0.1:8080}
              - name: tuned
                address: 127.0.0.1:8081
                max_request_line: 4KiB
                max_headers: 50
                merge_slashes: false
                underscore_headers: reject
                server_name: edge.example.com
                trusted_proxies: [10.0.0.0/8, "2001:db8::/32", 192.0.2.7]
                proxy_protocol: true
            upstreams: {app: {servers: ["127.0.0.1:3000"]}}
            routes:
              - {name: a, match: {path: /a}, proxy: {upstream: app}}
              - {name: b, match: {path: /b}, proxy: {upstream: app}, escaped_slashes: keep}
            """
        )

        let configuration = try conf.load("main.yaml")
        let plain = configuration.listeners[0]
        let tuned = configuration.listeners[1]

        #expect(plain.maxRequestLine == 8 * 1024)
        #expect(plain.maxHeaders == 100)
        #expect(plain.mergeSlashes)
        #expect(plain.underscoreHeaders == .keep)
        #expect(plain.defaultHost == "127.0.0.1:8080")
        #expect(plain.trustedProxies.isEmpty && !plain.proxyProtocol)
        #expect(tuned.maxRequestLine == 4 * 1024)
        #expect(tuned.maxHeaders == 50)
        #expect(!tuned.mergeSlashes)
        #expect(tuned.underscoreHeaders == .reject)
        #expect(tuned.defaultHost == "edge.example.com")
        #expect(tuned.trustedProxies.map(\.description) == ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"])
        #expect(tuned.proxyProtocol)
        #expect(configuration.routes.map(\.escapedSlashes) == [.reject, .keep])
    }

    @Test func badValuesAreReportedWithFileLineAndKey() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - name: main
                address: 127.0.0.1:8080
                max_request_line: 100KiB
                max_headers: 0
                underscore_headers: allow
                server_name: "*.example.com"
                trusted_proxies: [10.0.0.0/33, lb.example.com]
            upstreams: {app: {servers: ["127.0.0.1:3000"]}}
            routes:
              - {name: a, match: {path: /a}, proxy: {upstream: app}, escaped_slashes: decode}
            """
        )

        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):5: listeners[0].max_request_line: must be between 256B and 64KiB, got 100KiB",
                "\(file):6: listeners[0].max_headers: must be between 1 and 1000, got 0",
                "\(file):7: listeners[0].underscore_headers: expected one of keep, drop, reject, got \"allow\"",
                "\(file):8: listeners[0].server_name: expected a host name, not a wildcard",
                "\(file):9: listeners[0].trusted_proxies[0]: expected an IP address or CIDR network like 10.0.0.0/8 or 2001:db8::/32, got \"10.0.0.0/33\"",
                "\(file):9: listeners[0].trusted_proxies[1]: expected an IP address or CIDR network like 10.0.0.0/8 or 2001:db8::/32, got \"lb.example.com\"",
                "\(file):12: routes[0].escaped_slashes: expected one of reject, keep, got \"decode\"",
            ]
        )
    }

    @Test func networksContainTheirAddressesInBothFamilies() throws {
        let v4 = try #require(CIDRBlock("10.1.0.0/16"))
        #expect(v4.contains("10.1.255.3"))
        #expect(!v4.contains("10.2.0.1"))
        #expect(!v4.contains("::1"))
        #expect(try #require(CIDRBlock("0.0.0.0/0")).contains("203.0.113.9"))
        let v6 = try #require(CIDRBlock("2001:db8::/32"))
        #expect(v6.contains("2001:db8:ffff::1"))
        #expect(!v6.contains("2001:db9::1"))
        #expect(try #require(CIDRBlock("::ffff:10.0.0.0/104")).contains("10.9.8.7"))
        #expect(try #require(CIDRBlock("192.0.2.7")).contains("192.0.2.7"))
        #expect(!(try #require(CIDRBlock("192.0.2.7")).contains("192.0.2.8")))
        #expect(CIDRBlock("10.0.0.0/-1") == nil)
        #expect(CIDRBlock("10.0.0/8") == nil)
    }
}
