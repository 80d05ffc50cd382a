import PortcullisConfig
import Testing

/// Each class of mistake is reported as `file:line: key: message`, and one load reports
/// all of them.
@Suite struct ConfigErrorTests {
    @Test func unknownKeyIsReportedWithASuggestionAlongsideTheMissingKey() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - name: public
                adress: 127.0.0.1:8080
            routes: []
            routs: []
            """
        )

        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):3: listeners[0].address: missing required key",
                "\(file):4: listeners[0].adress: unknown key (did you mean \"address\"?)",
                "\(file):6: routs: unknown key (did you mean \"routes\"?)",
            ]
        )
    }

    @Test func camelCaseKeysSuggestTheSnakeCaseSpelling() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - name: public
                address: 127.0.0.1:8080
                maxHeaderSize: 8KiB
            """
        )

        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):5: listeners[0].maxHeaderSize: unknown key (did you mean \"max_header_size\"?)"
            ]
        )
    }

    @Test func badDurationsAndSizesNameTheExpectedSyntax() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - name: public
                address: 127.0.0.1:8080
                idle_timeout: 0s
                max_header_size: 2MiB
            upstreams:
              app:
                servers: [127.0.0.1:3000]
                connect_timeout: 30
                max_fails: 0
            routes:
              - name: api
                match: {path: /}
                proxy: {upstream: app, websocket: yes}
                max_body_size: 16 MiB
            """
        )

        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):5: listeners[0].idle_timeout: must be longer than 0s",
                "\(file):6: listeners[0].max_header_size: must be between 1KiB and 1MiB, got 2MiB",
                "\(file):10: upstreams.app.connect_timeout: expected a duration like 30s, got \"30\" (did you mean \"30s\"?)",
                "\(file):11: upstreams.app.max_fails: must be at least 1, got 0",
                "\(file):15: routes[0].proxy.websocket: expected true or false, got \"yes\"",
                "\(file):16: routes[0].max_body_size: expected a size like 64KiB, got \"16 MiB\"",
            ]
        )
    }

    @Test func wrongShapesAreReported() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            """
            version: one
            edge: [edge-1]
            listeners:
              name: public
            upstreams:
              app: 127.0.0.1:3000
            routes:
              - name: api
                listeners: public
                match: {path: api, host: "api.example.com:443", methods: ["GET POST"]}
                proxy: {upstream: app}
            """
        )

        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):1: version: expected an integer, got \"one\"",
                "\(file):2: edge: expected a mapping, got a list",
                "\(file):3: listeners: expected a list, got a mapping",
                "\(file):6: upstreams.app: expected a mapping, got \"127.0.0.1:3000\"",
                "\(file):9: routes[0].listeners: expected a list, got \"public\"",
                "\(file):10: routes[0].match.host: \"api.example.com:443\" must not include a port",
                "\(file):10: routes[0].match.path: must start with \"/\", got \"api\"",
                "\(file):10: routes[0].match.methods[0]: expected an HTTP method like GET, got \"GET POST\"",
            ]
        )
    }

    @Test func missingRequiredKeysPointAtTheMappingThatNeedsThem() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            """
            edge:
              id: edge-1
            listeners:
              - name: public
                address: 127.0.0.1:8080
            upstreams:
              app:
                connect_timeout: 1s
            routes:
              - name: api
                match:
                proxy:
                  strip_prefix: true
            """
        )

        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):1: version: missing required key",
                "\(file):7: upstreams.app.servers: missing required key",
                "\(file):11: routes[0].match: missing value",
                "\(file):12: routes[0].proxy.upstream: missing required key",
            ]
        )
    }

    @Test func missingCertificateFilesAreReportedAtTheirKeys() throws {
        let conf = try ConfDirectory()
        try conf.write("tls/present.pem", "cert")
        let file = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - name: public
                address: 0.0.0.0:8443
                tls:
                  certificates:
                    - certificate: tls/present.pem
                      private_key: tls/absent.key
                    - certificate: /nonexistent/cert.pem
                      private_key: tls
            """
        )

        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):8: listeners[0].tls.certificates[0].private_key: \(conf.path("tls/absent.key")): no such file or directory",
                "\(file):9: listeners[0].tls.certificates[1].certificate: /nonexistent/cert.pem: no such file or directory",
                "\(file):10: listeners[0].tls.certificates[1].private_key: \(conf.path("tls")): is a directory",
            ]
        )
    }

    @Test func unknownUpstreamInAnIncludedFileNamesThatFileAndLine() throws {
        let conf = try ConfDirectory()
        try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - name: public
                address: 127.0.0.1:8080
            upstreams:
              app: {servers: [127.0.0.1:3000]}
            routes:
              - include: routes.d/*.yaml
            """
        )
        let included = try conf.write(
            "routes.d/api.yaml",
            """
            # The API team's routes.
            routes:
              - name: api
                listeners: [public, pubic]
                match:
                  path: /api
                proxy:
                  upstream: ap
            """
        )

        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(included):4: routes[0].listeners[1]: no listener named \"pubic\" (did you mean \"public\"?)",
                "\(included):8: routes[0].proxy.upstream: no upstream named \"ap\" (did you mean \"app\"?)",
            ]
        )
    }

    @Test func duplicateNamesAcrossFilesNameBothPlaces() throws {
        let conf = try ConfDirectory()
        let main = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - name: public
                address: 0.0.0.0:8080
              - name: public
                address: 127.0.0.1:8080
            upstreams:
              app: {servers: [127.0.0.1:3000]}
            routes:
              - name: api
                match: {path: /}
                proxy: {upstream: app}
              - include: more.yaml
            """
        )
        let more = try conf.write(
            "more.yaml",
            """
            upstreams:
              app: {servers: [127.0.0.1:4000]}
            routes:
              - name: other
                match: {path: /other}
                proxy: {upstream: app}
              - name: api
                match: {path: /api}
                proxy: {upstream: app}
            """
        )

        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(main):5: listeners[1]: duplicate listener name \"public\" (first at \(main):3)",
                "\(main):5: listeners[1]: address 127.0.0.1:8080 is already used by listener \"public\" (0.0.0.0:8080 at \(main):3)",
                "\(more):2: upstreams.app: duplicate upstream name \"app\" (first at \(main):8)",
                "\(more):7: routes[1].name: duplicate route name \"api\" (first at \(main):10)",
            ]
        )
    }

    @Test func yamlSyntaxErrorsReportTheParserLine() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - name: public
                address: [127.0.0.1:8080
            routes: []
            """
        )

        let errors = conf.errors(loading: "main.yaml")

        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("\(file):5: invalid YAML: ") == true)
    }

    @Test func syntaxErrorInAnIncludedFileNamesThatFile() throws {
        let conf = try ConfDirectory()
        try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - {name: public, address: 127.0.0.1:8080}
            routes:
              - include: bad.yaml
            """
        )
        let bad = try conf.write("bad.yaml", "routes:\n  - name: x\n   proxy: y\n")

        let errors = conf.errors(loading: "main.yaml")

        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("\(bad):3: invalid YAML: ") == true)
    }

    @Test func duplicateKeysInOneMappingPointAtTheSecondKey() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - name: public
                address: 127.0.0.1:8080
                name: private
            """
        )

        #expect(conf.errors(loading: "main.yaml") == ["\(file):5: duplicate key \"name\" (first at line 3)"])
    }

    @Test func undefinedEnvironmentVariableIsReportedAtItsKey() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - name: public
                address: 127.0.0.1:${PORT}
              - name: admin
                address: 127.0.0.1:${ADMIN_PORT:-9000}
            upstreams:
              app: {servers: ["${APP_HOST"]}
            """
        )

        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):4: listeners[0].address: environment variable PORT is not set (write ${PORT:-default} to give a default)",
                "\(file):8: upstreams.app.servers[0]: unterminated ${ (write $${ for a literal ${)",
            ]
        )
    }

    @Test func includeCyclesAreReportedAtTheIncludeThatClosesThem() throws {
        let conf = try ConfDirectory()
        let main = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - {name: public, address: 127.0.0.1:8080}
            routes:
              - include: a.yaml
            """
        )
        let a = try conf.write("a.yaml", "routes:\n  - include: sub/b.yaml\n")
        let b = try conf.write("sub/b.yaml", "routes:\n  - include: ../a.yaml\n")

        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(b):2: routes[0].include: include cycle: \(a) -> \(b) -> \(a)"
            ]
        )
        _ = main
    }

    @Test func includingAFileThatDoesNotExistIsAnErrorButAnEmptyGlobIsNot() throws {
        let conf = try ConfDirectory()
        let main = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - {name: public, address: 127.0.0.1:8080}
            routes:
              - include: nothing/*.yaml
              - include: missing.yaml
            """
        )

        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(main):6: routes[1].include: cannot read \(conf.path("missing.yaml")): no such file or directory"
            ]
        )
    }

    @Test func unreadableMainFileIsAFileError() throws {
        let conf = try ConfDirectory()

        #expect(
            conf.errors(loading: "absent.yaml") == [
                "\(conf.path("absent.yaml")): cannot read file: no such file or directory"
            ]
        )
    }

    @Test func unsupportedVersionAndEmptyListenersAreRejected() throws {
        let conf = try ConfDirectory()
        let file = try conf.write("main.yaml", "version: 2\nlisteners: []\n")

        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):1: version: unsupported version 2 (this build reads version 1)",
                "\(file):2: listeners: needs at least one listener",
            ]
        )
    }

    @Test func adminAddressMustNotCollideWithAListener() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - {name: public, address: "0.0.0.0:9090"}
            """
        )

        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file): admin.address: admin address 127.0.0.1:9090 is already used by listener \"public\" "
                    + "(0.0.0.0:9090 at \(file):3)"
            ]
        )
    }

    @Test func errorDescriptionsWithoutLineOrKey() {
        let fileOnly = ConfigError(
            .unreadableFile, location: SourceLocation(file: "a.yaml", line: 0, keyPath: ""), message: "m")
        let line = ConfigError(
            .invalidYAML, location: SourceLocation(file: "a.yaml", line: 3, keyPath: ""), message: "m")
        let none = ConfigError(.invalidValue, location: nil, message: "m")
        #expect(fileOnly.description == "a.yaml: m")
        #expect(line.description == "a.yaml:3: m")
        #expect(none.description == "m")
        #expect(ConfigErrors([fileOnly, line]).description == "a.yaml: m\na.yaml:3: m")
    }

    @Test func aBrokenSectionDoesNotAlsoReportEveryReferenceToIt() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners: public
            upstreams:
              - app
            routes:
              - name: api
                listeners: [public]
                match: {}
                proxy: {upstream: app}
            """
        )

        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):2: listeners: expected a list, got \"public\"",
                "\(file):3: upstreams: expected a mapping, got a list",
            ]
        )
    }

    @Test func routesThatCouldNeverBothMatchAreRejected() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - {name: public, address: 127.0.0.1:0}
            upstreams:
              app: {servers: [127.0.0.1:3000]}
            routes:
              - name: api
                match: {host: api.example.com, path: /v1, methods: [GET, POST]}
                proxy: {upstream: app}
              - name: api-copy
                match: {host: API.example.com, path: /v1, methods: [post, get]}
                proxy: {upstream: app}
              - name: api-put
                match: {host: api.example.com, path: /v1, methods: [PUT]}
                proxy: {upstream: app}
            """
        )

        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):11: routes[1].match: same host, path, methods and listeners as route \"api\" "
                    + "(\(file):7); one of them could never match"
            ]
        )
    }

    @Test func tlsTakesEitherACertificateListOrTheShorthand() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            """
            version: 1
            listeners:
              - name: both
                address: 127.0.0.1:8443
                tls:
                  certificates: []
                  certificate: a.pem
              - name: neither
                address: 127.0.0.1:8444
                tls: {}
            routes:
              - include: nothing/*.yaml
                name: stray
            """
        )

        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):7: listeners[0].tls.certificate: give either certificates or certificate and private_key, "
                    + "not both",
                "\(file):10: listeners[1].tls.certificates: missing required key",
                "\(file):13: routes[0].name: unknown key (an include item has no other keys)",
            ]
        )
    }
}
