import PortcullisConfig
import Testing

/// `admin.publish`, `admin.tls` and `socket.emit_endpoints`: what they decode to, and every
/// mistake reported with file, line and key.
@Suite struct PublishConfigTests {
    private static let head = """
        version: 1
        listeners: [{name: main, address: 127.0.0.1:8080}]
        redis: {url: redis://127.0.0.1:6379}

        """
    private static let key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

    @Test func publishReadsAndTrimsTheKeyAndTLSUsesTheListenerShape() throws {
        let conf = try ConfDirectory()
        try conf.write("publish.key", "  \(Self.key)\n\n")
        try conf.write("tls/a.pem", "cert")
        try conf.write("tls/a.key", "key")
        try conf.write(
            "main.yaml",
            Self.head + """
                admin:
                  address: 0.0.0.0:9443
                  tls: {certificate: tls/a.pem, private_key: tls/a.key, profile: modern}
                  publish: {key_file: publish.key, max_body_size: 4MiB}
                """)
        let admin = try conf.load("main.yaml").admin
        let publish = try #require(admin.publish)
        #expect(publish.key == Self.key)
        #expect(publish.keyFile == conf.path("publish.key"))
        #expect(publish.maxBodySize == 4 << 20)
        #expect(admin.tls?.certificates.map(\.certificatePath) == [conf.path("tls/a.pem")])
        #expect(admin.tls?.profile == .modern)
    }

    @Test func publishingIsOffByDefaultAndTheBodyLimitIs1MiB() throws {
        let conf = try ConfDirectory()
        try conf.write("publish.key", Self.key)
        try conf.write("off.yaml", Self.head)
        #expect(try conf.load("off.yaml").admin.publish == nil)
        #expect(try conf.load("off.yaml").admin.tls == nil)
        try conf.write("on.yaml", Self.head + "admin: {publish: {key_file: publish.key}}\n")
        #expect(try conf.load("on.yaml").admin.publish?.maxBodySize == 1 << 20)
    }

    @Test func keyFileMistakesNameFileLineAndKey() throws {
        let conf = try ConfDirectory()
        try conf.write("short.key", "tooshort\n")
        try conf.write("spaces.key", "0123456789abcdef 0123456789abcdef0123456789abcdef")
        for (keyFile, message) in [
            ("missing.key", "cannot read \(conf.path("missing.key")): no such file or directory"),
            (
                "short.key",
                "the key in \(conf.path("short.key")) is 8 bytes once surrounding whitespace is trimmed; "
                    + "at least 32 are needed (openssl rand -hex 32 makes a good one)"
            ),
            (
                "spaces.key",
                "the key in \(conf.path("spaces.key")) holds characters an Authorization: Bearer header cannot carry "
                    + "(use A-Z a-z 0-9 - . _ ~ + /, then optional =)"
            ),
        ] {
            let file = try conf.write(
                "main.yaml",
                Self.head + """
                    admin:
                      publish:
                        key_file: \(keyFile)
                    """)
            #expect(conf.errors(loading: "main.yaml") == ["\(file):6: admin.publish.key_file: \(message)"])
        }
    }

    @Test func publishNeedsAKeyFileAndRedis() throws {
        let conf = try ConfDirectory()
        try conf.write("publish.key", Self.key)
        let file = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners: [{name: main, address: 127.0.0.1:8080}]
            admin:
              publish: {max_body_size: 10B, key_fil: x}
            """)
        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):4: admin.publish.max_body_size: must be between 1KiB and 64MiB, got 10B",
                "\(file):4: admin.publish.key_file: missing required key",
                #"\#(file):4: admin.publish.key_fil: unknown key (did you mean "key_file"?)"#,
            ])
        try conf.write(
            "main.yaml",
            """
            version: 1
            listeners: [{name: main, address: 127.0.0.1:8080}]
            admin:
              publish: {key_file: publish.key}
            """)
        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):4: admin.publish: publishing needs redis.url (published messages travel over Redis Streams)"
            ])
    }

    @Test func adminTLSFilesAreCheckedLikeAListeners() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            Self.head + """
                admin:
                  tls: {certificate: tls/none.pem, private_key: tls/none.key}
                """)
        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):5: admin.tls.certificate: \(conf.path("tls/none.pem")): no such file or directory",
                "\(file):5: admin.tls.private_key: \(conf.path("tls/none.key")): no such file or directory",
            ])
    }

    // MARK: socket.emit_endpoints

    @Test func emitEndpointsDefaultToTheRoutesOnlyNamespace() throws {
        let conf = try ConfDirectory()
        try conf.write(
            "main.yaml",
            Self.head + """
                routes:
                  - name: shared
                    match: {path: /socket.io}
                    socket:
                      app: shared
                      protocol: socketio
                      socketio: {namespaces: [/v1/shared]}
                      emit_endpoints: {room: "shared:user:{user}"}
                  - name: chat
                    match: {path: /chat}
                    socket: {app: chat, protocol: socketio, socketio: {namespaces: ["/", "/chat"]}}
                """)
        let routes = try conf.load("main.yaml").routes
        let endpoints = try #require(routes[0].socket?.emitEndpoints)
        #expect(endpoints.namespace == "/v1/shared")
        #expect(endpoints.room == "shared:user:{user}")
        #expect(endpoints.room(forUser: "64abc") == "shared:user:64abc")
        #expect(routes[1].socket?.emitEndpoints == nil)
    }

    @Test func emitEndpointsOnARawRouteTargetTheUser() throws {
        let conf = try ConfDirectory()
        try conf.write(
            "main.yaml",
            Self.head + """
                routes:
                  - {name: raw, match: {path: /ws}, socket: {app: echo, emit_endpoints: {}}}
                """)
        let endpoints = try #require(try conf.load("main.yaml").routes.first?.socket?.emitEndpoints)
        #expect(endpoints.namespace == nil && endpoints.room == nil)
        #expect(endpoints.room(forUser: "u") == nil)
    }

    @Test func emitEndpointMistakesNameFileLineAndKey() throws {
        let cases: [(socket: String, errors: [String])] = [
            (
                #"{app: a, protocol: socketio, socketio: {namespaces: ["/", "/chat"]}, emit_endpoints: {room: r}}"#,
                [
                    "routes[0].socket.emit_endpoints.room: must contain {user}, which each request's user id replaces",
                    "routes[0].socket.emit_endpoints: give namespace: the route allows /, /chat, "
                        + "so which one the events go to must be said",
                ]
            ),
            (
                #"{app: b, protocol: socketio, emit_endpoints: {namespace: /other, room: "{user}:{kind}"}}"#,
                [
                    #"routes[0].socket.emit_endpoints.room: {user} is the only placeholder, got "{user}:{kind}""#,
                    #"routes[0].socket.emit_endpoints.namespace: must be one of the route's namespaces (/), got "/other""#,
                ]
            ),
            (
                #"{app: c, protocol: socketio, socketio: {namespaces: ["*"]}, emit_endpoints: {}}"#,
                [
                    "routes[0].socket.emit_endpoints: give namespace: the route allows *, "
                        + "so which one the events go to must be said"
                ]
            ),
            (
                "{app: d, emit_endpoints: {namespace: /}}",
                ["routes[0].socket.emit_endpoints.namespace: only with protocol: socketio"]
            ),
            (
                "{app: e, protocol: actioncable, emit_endpoints: {}}",
                [
                    "routes[0].socket.emit_endpoints: ActionCable has no events to emit: "
                        + "backends broadcast to its streams with POST /_broadcast"
                ]
            ),
        ]
        for (socket, errors) in cases {
            let conf = try ConfDirectory()
            let file = try conf.write(
                "main.yaml",
                Self.head + """
                    routes:
                      - name: notifications
                        match: {path: /n}
                        socket: \(socket)
                    """)
            #expect(conf.errors(loading: "main.yaml") == errors.map { "\(file):7: \($0)" }, "\(socket)")
        }
    }

    @Test func onlyOneRouteMayDeclareEmitEndpoints() throws {
        let conf = try ConfDirectory()
        try conf.write(
            "routes.d/more.yaml",
            """
            routes:
              - name: second
                match: {path: /second}
                socket:
                  app: second
                  emit_endpoints: {room: "u:{user}"}
            """)
        let file = try conf.write(
            "main.yaml",
            Self.head + """
                routes:
                  - name: first
                    match: {path: /first}
                    socket:
                      app: first
                      emit_endpoints: {}
                  - include: routes.d/*.yaml
                """)
        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(conf.path("routes.d/more.yaml")):6: routes[0].socket.emit_endpoints: only one socket route may "
                    + #"declare emit_endpoints; route "first" already does (\#(file):9)"#
            ])
    }
}
