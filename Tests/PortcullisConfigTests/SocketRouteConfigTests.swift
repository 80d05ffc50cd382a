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

    // MARK: Socket.IO

    @Test func everySocketIOKeyIsDecoded() throws {
        let conf = try ConfDirectory()
        try conf.write(
            "main.yaml",
            Self.head + """
                routes:
                  - name: sio
                    match: {path: /}
                    socket:
                      app: chat
                      protocol: socketio
                      max_message_size: 64KiB
                      socketio:
                        path: /rt/
                        namespaces: ["/", "/chat", "*"]
                        transports: [websocket]
                        ping_interval: 10s
                        ping_timeout: 4s
                        max_payload: 512KiB
                        connect_timeout: 1500ms
                        auth_token_field: access_token
                        refresh_event: "verify_user"
                        expiry_event: "$loggedOut"
                        max_attachments: 0
                """)
        let socket = try #require(try conf.load("main.yaml").routes.first?.socket)
        #expect(socket.wireProtocol == .socketio)
        #expect(socket.actionCable == nil)
        let settings = try #require(socket.socketIO)
        #expect(settings.path == "/rt/")
        #expect(settings.namespaces == ["/", "/chat", "*"])
        #expect(settings.transports == [.websocket])
        #expect(settings.pingInterval == .seconds(10))
        #expect(settings.pingTimeout == .seconds(4))
        #expect(settings.maxPayload == 512 * 1024)
        #expect(settings.connectTimeout == .milliseconds(1500))
        #expect(settings.authTokenField == "access_token")
        #expect(settings.refreshEvent == "verify_user")
        #expect(settings.expiryEvent == "$loggedOut")
        #expect(settings.maxAttachments == 0)
        // The advertised maxPayload is the message limit enforced, whatever max_message_size says.
        #expect(socket.maxMessageSize == 512 * 1024)
        #expect(socket.subprotocols.isEmpty)
    }

    @Test func socketIOWithoutSettingsTakesTheReferenceServersDefaults() throws {
        let conf = try ConfDirectory()
        try conf.write(
            "main.yaml",
            Self.head + """
                routes:
                  - {name: sio, match: {path: /}, socket: {app: chat, protocol: socketio}}
                """)
        let socket = try #require(try conf.load("main.yaml").routes.first?.socket)
        let settings = try #require(socket.socketIO)
        #expect(settings == SocketAction.SocketIO())
        #expect(settings.path == "/socket.io/" && settings.namespaces == ["/"])
        #expect(settings.transports == [.polling, .websocket])
        #expect(settings.pingInterval == .seconds(25) && settings.pingTimeout == .seconds(20))
        #expect(settings.maxPayload == 1_000_000 && settings.connectTimeout == .seconds(45))
        #expect(settings.authTokenField == "token" && settings.refreshEvent == nil && settings.expiryEvent == nil)
        #expect(settings.maxAttachments == 10)
        #expect(socket.maxMessageSize == 1_000_000)
    }

    @Test func socketIOMistakesNameFileLineAndKey() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners: [{name: main, address: 127.0.0.1:8080}]
            redis: {url: redis://127.0.0.1:6379}
            routes:
              - name: sio
                match: {path: /}
                socket:
                  app: chat
                  protocol: socketio
                  mode: json
                  socketio:
                    path: socket.io
                    namespaces: ["/", chat, "/a,b"]
                    transports: [polling, flashsocket]
                    ping_interval: soon
                    ping_timeout: 0s
                    max_payload: 100B
                    connect_timeout: -1s
                    auth_token_field: "a b"
                    refresh_event: "verify user"
                    expiry_event: ""
                    max_attachments: 101
                    pingInterval: 5s
                  actioncable: {ping_interval: 3s}
              - name: empty
                match: {path: /e}
                socket: {app: chat, protocol: socketio, socketio: {transports: []}}
              - name: raw
                match: {path: /r}
                socket: {app: chat, socketio: {path: /x/}}
              - name: unknown
                match: {path: /u}
                socket: {app: chat, protocol: mqtt}
            """
        )
        let validName = #"letters, digits, "_", "-", ".")"#
        let eventName = #"letters, digits, "_", "-", ".", ":", "$")"#
        func at(_ line: Int, _ route: Int = 0) -> String { "\(file):\(line): routes[\(route)].socket" }
        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(at(10)).mode: only with protocol: raw",
                "\(at(12)).socketio.path: expected an absolute path like /socket.io/, got \"socket.io\"",
                "\(at(13)).socketio.namespaces[1]: expected a namespace like /chat (or *), got \"chat\"",
                "\(at(13)).socketio.namespaces[2]: expected a namespace like /chat (or *), got \"/a,b\"",
                "\(at(14)).socketio.transports[1]: expected one of polling, websocket, got \"flashsocket\"",
                "\(at(15)).socketio.ping_interval: expected a duration like 30s, got \"soon\"",
                "\(at(16)).socketio.ping_timeout: must be longer than 0s",
                "\(at(17)).socketio.max_payload: must be between 125B and 64MiB, got 100B",
                "\(at(18)).socketio.connect_timeout: expected a duration like 30s, got \"-1s\"",
                "\(at(19)).socketio.auth_token_field: \"a b\" is not a valid name (1 to 64 \(validName)",
                "\(at(20)).socketio.refresh_event: \"verify user\" is not a valid name (1 to 128 \(eventName)",
                "\(at(21)).socketio.expiry_event: \"\" is not a valid name (1 to 128 \(eventName)",
                "\(at(22)).socketio.max_attachments: must be between 0 and 100, got 101",
                "\(at(23)).socketio.pingInterval: unknown key (did you mean \"ping_interval\"?)",
                "\(at(24)).actioncable: only with protocol: actioncable",
                "\(at(27, 1)).socketio.transports: expected at least one of polling, websocket",
                "\(at(30, 2)).socketio: only with protocol: socketio",
                "\(at(33, 3)).protocol: expected raw, socketio or actioncable, got \"mqtt\"",
            ]
        )
    }

    // MARK: ActionCable

    @Test func actionCableKeysAndRailsSubprotocol() throws {
        let conf = try ConfDirectory()
        try conf.write(
            "main.yaml",
            Self.head + """
                routes:
                  - name: cable
                    match: {path: /cable}
                    socket:
                      app: chat
                      protocol: actioncable
                      actioncable: {ping_interval: 5s, max_subscriptions: 20}
                  - {name: plain, match: {path: /cable2}, socket: {app: chat, protocol: actioncable}}
                  - name: own
                    match: {path: /cable3}
                    socket: {app: chat, protocol: actioncable, subprotocols: [actioncable-v1-ext-json]}
                """)
        let routes = try conf.load("main.yaml").routes
        let cable = try #require(routes[0].socket)
        #expect(cable.wireProtocol == .actioncable && cable.socketIO == nil)
        #expect(cable.actionCable?.pingInterval == .seconds(5))
        #expect(cable.actionCable?.maxSubscriptions == 20)
        #expect(cable.subprotocols == ["actioncable-v1-json"])
        let plain = try #require(routes[1].socket)
        #expect(plain.actionCable == SocketAction.ActionCable())
        #expect(plain.actionCable?.pingInterval == .seconds(3) && plain.actionCable?.maxSubscriptions == 100)
        #expect(plain.subprotocols == ["actioncable-v1-json"])
        #expect(routes[2].socket?.subprotocols == ["actioncable-v1-ext-json"])
        // Raw routes offer no subprotocol unless told to.
        try conf.write("raw.yaml", Self.head + "routes: [{name: raw, match: {path: /}, socket: {app: chat}}]\n")
        let raw = try #require(try conf.load("raw.yaml").routes.first?.socket)
        #expect(raw.subprotocols.isEmpty && raw.actionCable == nil && raw.socketIO == nil)
    }

    @Test func actionCableMistakesNameFileLineAndKey() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners: [{name: main, address: 127.0.0.1:8080}]
            redis: {url: redis://127.0.0.1:6379}
            routes:
              - name: cable
                match: {path: /cable}
                socket:
                  app: chat
                  protocol: actioncable
                  mode: opaque
                  socketio: {path: /socket.io/}
                  actioncable:
                    ping_interval: 0s
                    max_subscriptions: 0
                    max_subscription: 5
              - name: many
                match: {path: /many}
                socket: {app: chat, protocol: actioncable, actioncable: {max_subscriptions: 10001}}
            """
        )
        let cable = "routes[0].socket.actioncable"
        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):10: routes[0].socket.mode: only with protocol: raw",
                "\(file):11: routes[0].socket.socketio: only with protocol: socketio",
                "\(file):13: \(cable).ping_interval: must be longer than 0s",
                "\(file):14: \(cable).max_subscriptions: must be between 1 and 10000, got 0",
                "\(file):15: \(cable).max_subscription: unknown key (did you mean \"max_subscriptions\"?)",
                "\(file):18: routes[1].socket.actioncable.max_subscriptions: must be between 1 and 10000, got 10001",
            ]
        )
    }

    // MARK: Session checks

    @Test func theSessionCheckIntervalIsDecodedAndZeroTurnsItOff() throws {
        let conf = try ConfDirectory()
        for (value, expected) in [("30s", Duration.seconds(30)), ("1m30s", .seconds(90)), ("0s", .zero)] {
            try conf.write("main.yaml", Self.head + "auth: {session_check_interval: \(value)}\nroutes: []\n")
            #expect(try conf.load("main.yaml").auth.sessionCheckInterval == expected)
        }
        try conf.write("main.yaml", Self.head + "routes: []\n")
        #expect(try conf.load("main.yaml").auth.sessionCheckInterval == .seconds(5))
    }

    @Test func aBadSessionCheckIntervalNamesFileLineAndKey() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            Self.head + """
                auth:
                  session_check_interval: often
                routes: []
                """)
        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):5: auth.session_check_interval: expected a duration like 30s, got \"often\""
            ])
    }
}
