import PortcullisConfig
import Testing

/// `routes[].auth.socket_id_header`: a header name the edge vouches for, which needs Redis.
@Suite struct SocketIDHeaderConfigTests {
    private func conf(_ header: String, redis: Bool = true) -> String {
        """
        version: 1
        listeners:
          - { name: public, address: "127.0.0.1:8080" }
        upstreams:
          app: { servers: ["127.0.0.1:3000"] }
        auth:
          key_sets:
            main:
              - { secret_file: hs.key, alg: HS256 }
        \(redis ? "redis: { url: redis://127.0.0.1:6379 }" : "")
        routes:
          - name: api
            match: { path: /api }
            proxy: { upstream: app }
            auth:
              key_set: main
              socket_id_header: \(header)
        """
    }

    @Test func aHeaderNameLoadsLowerCased() throws {
        let directory = try ConfDirectory()
        try directory.write("hs.key", "0123456789abcdef0123456789abcdef")
        try directory.write("main.yaml", conf("X-Socket-Id"))
        let configuration = try directory.load("main.yaml")
        #expect(configuration.routes.first?.auth?.socketIDHeader == "x-socket-id")
    }

    @Test(arguments: [
        ("\"x socket\"", "expected a header name like x-socket-id"),
        ("X-Auth-Subject", "is a header the edge reads or sets itself"),
        ("cookie", "is a header the edge reads or sets itself"),
    ])
    func namesThatAreNotHeadersOrAreTheEdgesOwnAreRefused(_ header: String, _ message: String) throws {
        let directory = try ConfDirectory()
        try directory.write("hs.key", "0123456789abcdef0123456789abcdef")
        try directory.write("main.yaml", conf(header))
        do {
            _ = try directory.load("main.yaml")
            Issue.record("loaded socket_id_header \(header)")
        } catch let errors as ConfigErrors {
            #expect(errors.errors.map(\.location?.keyPath) == ["routes[0].auth.socket_id_header"])
            #expect(errors.errors.first?.message.contains(message) == true)
        }
    }

    @Test func itNeedsRedis() throws {
        let directory = try ConfDirectory()
        try directory.write("hs.key", "0123456789abcdef0123456789abcdef")
        try directory.write("main.yaml", conf("x-socket-id", redis: false))
        do {
            _ = try directory.load("main.yaml")
            Issue.record("loaded without redis")
        } catch let errors as ConfigErrors {
            #expect(
                errors.errors.map(\.message) == ["socket_id_header needs redis.url (live sockets are looked up there)"])
        }
    }
}
