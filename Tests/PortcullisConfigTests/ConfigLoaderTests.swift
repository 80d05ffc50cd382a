import PortcullisConfig
import Testing

/// What a valid configuration decodes to.
@Suite struct ConfigLoaderTests {
    @Test func omittedKeysTakeTheirDefaults() throws {
        let conf = try ConfDirectory()
        try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - name: public
                address: 127.0.0.1:0
            upstreams:
              app:
                servers: [127.0.0.1:3000]
            routes:
              - name: api
                match: {}
                proxy: {upstream: app}
            """
        )

        let configuration = try conf.load("main.yaml")

        #expect(configuration.version == 1)
        #expect(configuration.edge.id == "edge-1")
        #expect(configuration.edge.drainTimeout == .seconds(20))
        #expect(configuration.edge.eventLoops == 0)
        #expect(configuration.listeners[0].maxHeaderSize == 32 * 1024)
        #expect(configuration.listeners[0].idleTimeout == .seconds(60))
        #expect(configuration.admin.address == HostPort(host: "127.0.0.1", port: 9090))
        #expect(configuration.admin.location == nil)
        let upstream = try #require(configuration.upstreams["app"])
        #expect(upstream.connectTimeout == .seconds(2))
        #expect(upstream.responseTimeout == .seconds(30))
        #expect(upstream.idleTimeout == .seconds(60))
        #expect(upstream.maxIdlePerServer == 32)
        #expect(upstream.maxFails == 3)
        #expect(upstream.failTimeout == .seconds(10))
        let route = try #require(configuration.routes.first)
        #expect(route.listeners == [])
        #expect(route.match.host == nil)
        #expect(route.match.path == "/")
        #expect(route.match.methods == [])
        #expect(route.proxy?.stripPrefix == false)
        #expect(route.proxy?.websocket == true)
        #expect(route.maxBodySize == 16 * 1024 * 1024)
        #expect(configuration.files == [conf.path("main.yaml")])
    }

    @Test func everyKeyIsDecoded() throws {
        let conf = try ConfDirectory()
        try conf.write("tls/a.pem", "cert")
        try conf.write("tls/a.key", "key")
        try conf.write(
            "main.yaml",
            """
            version: 1
            edge: {id: edge-7, drain_timeout: 1m30s, event_loops: 4}
            listeners:
              - name: public
                address: "[::]:8443"
                max_header_size: 64KiB
                idle_timeout: 500ms
                tls:
                  certificate: tls/a.pem
                  private_key: tls/a.key
                  server_names: [API.Example.com]
            admin: {address: "[::1]:9191"}
            upstreams:
              app:
                servers: [10.0.0.1:80, "backend.internal:8080"]
                connect_timeout: 1s
                response_timeout: 2m
                idle_timeout: 1h
                max_idle_per_server: 0
                max_fails: 1
                fail_timeout: 1d
            routes:
              - name: api.v1
                listeners: [public]
                match: {host: "*.Example.COM", path: /v1/, methods: [get, Post, GET]}
                proxy: {upstream: app, strip_prefix: true, websocket: false}
                max_body_size: 10KB
            """
        )

        let configuration = try conf.load("main.yaml")

        #expect(configuration.edge.id == "edge-7")
        #expect(configuration.edge.drainTimeout == .seconds(90))
        #expect(configuration.edge.eventLoops == 4)
        let listener = configuration.listeners[0]
        #expect(listener.address == HostPort(host: "::", port: 8443))
        #expect(listener.maxHeaderSize == 65536)
        #expect(listener.idleTimeout == .milliseconds(500))
        let certificate = try #require(listener.tls?.certificates.first)
        #expect(certificate.certificatePath == conf.path("tls/a.pem"))
        #expect(certificate.privateKeyPath == conf.path("tls/a.key"))
        #expect(certificate.serverNames == ["api.example.com"])
        #expect(configuration.admin.address == HostPort(host: "::1", port: 9191))
        let upstream = try #require(configuration.upstreams["app"])
        #expect(
            upstream.servers == [HostPort(host: "10.0.0.1", port: 80), HostPort(host: "backend.internal", port: 8080)])
        #expect(upstream.connectTimeout == .seconds(1))
        #expect(upstream.responseTimeout == .seconds(120))
        #expect(upstream.idleTimeout == .seconds(3600))
        #expect(upstream.maxIdlePerServer == 0)
        #expect(upstream.maxFails == 1)
        #expect(upstream.failTimeout == .seconds(86400))
        let route = configuration.routes[0]
        #expect(route.name == "api.v1")
        #expect(route.listeners == ["public"])
        #expect(route.match.host == "*.example.com")
        #expect(route.match.path == "/v1/")
        #expect(route.match.methods == ["GET", "POST"])
        #expect(route.proxy?.upstream == "app")
        #expect(route.proxy?.stripPrefix == true)
        #expect(route.proxy?.websocket == false)
        #expect(route.maxBodySize == 10_000)
    }

    @Test func environmentVariablesAreExpandedBeforeTyping() throws {
        let conf = try ConfDirectory()
        try conf.write(
            "main.yaml",
            """
            version: 1
            edge:
              id: ${EDGE_ID}
              event_loops: ${LOOPS:-2}
            listeners:
              - name: public
                address: ${BIND_HOST:-0.0.0.0}:${PORT}
            upstreams:
              app:
                servers: ["${APP_HOST}:3000"]
            routes:
              - name: api
                match: {path: "/$${literal}"}
                proxy: {upstream: app}
            """
        )

        let configuration = try conf.load(
            "main.yaml",
            environment: ["EDGE_ID": "edge-9", "PORT": "8080", "APP_HOST": "10.1.1.1"]
        )

        #expect(configuration.edge.id == "edge-9")
        #expect(configuration.edge.eventLoops == 2)
        #expect(configuration.listeners[0].address == HostPort(host: "0.0.0.0", port: 8080))
        #expect(configuration.upstreams["app"]?.servers == [HostPort(host: "10.1.1.1", port: 3000)])
        #expect(configuration.routes[0].match.path == "/${literal}")
    }

    @Test func includedRoutesAreExpandedInPlaceInFileNameOrder() throws {
        let conf = try ConfDirectory()
        try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - {name: public, address: 127.0.0.1:0}
            upstreams:
              app: {servers: [127.0.0.1:3000]}
            routes:
              - {name: first, match: {path: /first}, proxy: {upstream: app}}
              - include: routes.d/*.yaml
              - include: none.d/*.yaml
              - {name: last, match: {path: /last}, proxy: {upstream: app}}
            """
        )
        for name in ["b", "c", "a"] {
            try conf.write(
                "routes.d/\(name).yaml",
                """
                routes:
                  - {name: \(name), match: {path: /\(name)}, proxy: {upstream: app}}
                """
            )
        }
        try conf.write("routes.d/ignored.yml", "this is not loaded: [")

        let configuration = try conf.load("main.yaml")

        #expect(configuration.routes.map(\.name) == ["first", "a", "b", "c", "last"])
        #expect(
            configuration.files == ["main", "routes.d/a", "routes.d/b", "routes.d/c"].map { conf.path("\($0).yaml") })
    }

    @Test func includedFilesAddUpstreamsAndNestedIncludes() throws {
        let conf = try ConfDirectory()
        try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - {name: public, address: 127.0.0.1:0}
            routes:
              - include: apps/chat.yaml
            """
        )
        try conf.write(
            "apps/chat.yaml",
            """
            upstreams:
              chat: {servers: [127.0.0.1:5000]}
            routes:
              - include: more/*.yaml
            """
        )
        try conf.write(
            "apps/more/ws.yaml",
            """
            # comment

            routes:
              - name: ws
                match:
                  path: /ws
                proxy:
                  upstream: chat
            """
        )

        let configuration = try conf.load("main.yaml")

        #expect(configuration.upstreams["chat"]?.servers == [HostPort(host: "127.0.0.1", port: 5000)])
        let route = try #require(configuration.routes.first)
        #expect(route.name == "ws")
        let file = conf.path("apps/more/ws.yaml")
        #expect(route.location == SourceLocation(file: file, line: 4, keyPath: "routes[0]"))
        #expect(route.location(of: "name") == SourceLocation(file: file, line: 4, keyPath: "routes[0].name"))
        #expect(
            route.location(of: "match.path") == SourceLocation(file: file, line: 6, keyPath: "routes[0].match.path"))
        #expect(
            route.location(of: "proxy.upstream")
                == SourceLocation(file: file, line: 8, keyPath: "routes[0].proxy.upstream"))
    }

    @Test func routeKeyLocationsPointAtTheirKeys() throws {
        let conf = try ConfDirectory()
        try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - {name: public, address: 127.0.0.1:0}
            upstreams:
              app: {servers: [127.0.0.1:3000]}
            routes:
              - name: api
                listeners:
                  - public
                match:
                  host: API.example.com
                  path: /
                proxy:
                  upstream: app
            """
        )

        let route = try #require(try conf.load("main.yaml").routes.first)

        let file = conf.path("main.yaml")
        #expect(route.location(of: "name") == SourceLocation(file: file, line: 7, keyPath: "routes[0].name"))
        #expect(route.location(of: "listeners") == SourceLocation(file: file, line: 8, keyPath: "routes[0].listeners"))
        #expect(
            route.location(of: "listeners[0]") == SourceLocation(file: file, line: 9, keyPath: "routes[0].listeners[0]")
        )
        #expect(
            route.location(of: "match.host") == SourceLocation(file: file, line: 11, keyPath: "routes[0].match.host"))
        #expect(
            route.location(of: "match.path") == SourceLocation(file: file, line: 12, keyPath: "routes[0].match.path"))
        #expect(
            route.location(of: "proxy.upstream")
                == SourceLocation(file: file, line: 14, keyPath: "routes[0].proxy.upstream"))
        #expect(route.match.host == "api.example.com")
    }

    @Test func yamlAnchorsAndMergeKeysShareSettings() throws {
        let conf = try ConfDirectory()
        try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - {name: public, address: 127.0.0.1:0}
            upstreams:
              app: &pool
                servers: [127.0.0.1:3000]
                connect_timeout: 5s
                max_fails: 7
              app2:
                <<: *pool
                servers: [127.0.0.1:3001]
            """
        )

        let upstreams = try conf.load("main.yaml").upstreams

        #expect(upstreams["app2"]?.servers == [HostPort(host: "127.0.0.1", port: 3001)])
        #expect(upstreams["app2"]?.connectTimeout == .seconds(5))
        #expect(upstreams["app2"]?.maxFails == 7)
    }
}
