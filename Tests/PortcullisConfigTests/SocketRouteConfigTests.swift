import PortcullisConfig
import Testing

/// Socket routes (`socket:` instead of `proxy:`) and the edge's `bus:` settings.
@Suite struct SocketRouteConfigTests {
    private static let head = """
        version: 1
        listeners: [{name: main, address: 127.0.0.1:8080}]
        redis: {url: redis://127.0.0.1:6379}

        """

    @Test func everySocketKeyIsDecoded() throws {
        let conf = try ConfDirectory()
        try conf.write(
            "main.yaml",
            Self.head + """
                bus: {prefix: "staging:rt", heartbeat_interval: 2s, heartbeat_ttl: 7s, max_buffered_appends: 500}
                routes:
                  - name: chat
                    match: {path: /ws}
                    socket:
                      app: chat
                      protocol: raw
                      mode: opaque
                      max_message_size: 64KiB
                      ping_interval: 10s
                      ping_timeout: 5s
                      handshake_timeout: 3s
                      send_queue: 256KiB
                      rate_limit: {messages_per_second: 20, burst: 40, close_after: 10}
                      subprotocols: [chat.v1, chat.v2]
                """)
        let configuration = try conf.load("main.yaml")
        let route = try #require(configuration.routes.first)
        #expect(route.proxy == nil)
        let socket = try #require(route.socket)
        #expect(socket.app == "chat")
        #expect(socket.wireProtocol == .raw)
        #expect(socket.mode == .opaque)
        #expect(socket.maxMessageSize == 64 * 1024)
        #expect(socket.pingInterval == .seconds(10))
        #expect(socket.pingTimeout == .seconds(5))
        #expect(socket.handshakeTimeout == .seconds(3))
        #expect(socket.sendQueue == 256 * 1024)
        #expect(socket.rateLimit == SocketAction.RateLimit(messagesPerSecond: 20, burst: 40, closeAfter: 10))
        #expect(socket.subprotocols == ["chat.v1", "chat.v2"])
        #expect(configuration.bus.prefix == "staging:rt")
        #expect(configuration.bus.heartbeatInterval == .seconds(2))
        #expect(configuration.bus.heartbeatTTL == .seconds(7))
        #expect(configuration.bus.maxBufferedAppends == 500)
    }

    @Test func omittedSocketKeysTakeTheirDefaults() throws {
        let conf = try ConfDirectory()
        try conf.write(
            "main.yaml",
            Self.head + """
                routes:
                  - {name: echo, match: {path: /ws}, socket: {app: echo}}
                  - {name: free, match: {path: /free}, socket: {app: echo, rate_limit: off}}
                """)
        let configuration = try conf.load("main.yaml")
        let socket = try #require(configuration.routes.first?.socket)
        #expect(socket.mode == .json)
        #expect(socket.maxMessageSize == 1 << 20)
        #expect(socket.rateLimit == SocketAction.RateLimit(messagesPerSecond: 100, burst: 200, closeAfter: 50))
        #expect(configuration.routes[1].socket?.rateLimit == nil)
        #expect(configuration.bus.prefix == "portcullis")
        #expect(configuration.bus.heartbeatTTL == .seconds(15))
    }

    @Test func socketMistakesNameFileLineAndKey() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners: [{name: main, address: 127.0.0.1:8080}]
            upstreams: {app: {servers: [127.0.0.1:3000]}}
            bus: {heartbeat_interval: 10s, heartbeat_ttl: 5s}
            routes:
              - name: both
                match: {path: /both}
                proxy: {upstream: app}
                socket: {app: echo}
              - name: neither
                match: {path: /neither}
              - name: bad
                match: {path: /bad}
                socket: {app: "no spaces", mode: binary, max_message_size: 100B, rate_limit: {messages_per_second: 0}}
            """
        )
        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):4: bus.heartbeat_ttl: must be longer than heartbeat_interval (10.0 seconds)",
                "\(file):9: routes[0].socket: a route either proxies or terminates sockets: give proxy or socket, not both",
                "\(file):10: routes[1].proxy: missing required key",
                "\(file):14: routes[2].socket.app: \"no spaces\" is not a valid name (1 to 64 letters, digits, \"_\", \"-\")",
                "\(file):14: routes[2].socket.mode: expected json or opaque, got \"binary\"",
                "\(file):14: routes[2].socket.max_message_size: must be between 125B and 64MiB, got 100B",
                "\(file):14: routes[2].socket.rate_limit.messages_per_second: expected a number above 0, got \"0\"",
                "\(file):14: routes[2].socket: socket routes need redis.url (their messages travel over Redis Streams)",
            ]
        )
    }
}
