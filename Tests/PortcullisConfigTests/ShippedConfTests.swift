import Foundation
import PortcullisConfig
import Testing

/// The example and development conf files in the repository's `conf/` must always load.
@Suite struct ShippedConfTests {
    @Test func productionExampleLoadsWithCertificatesFromTLSDirectory() throws {
        let tls = try ConfDirectory()
        for domain in ["example.com", "example.net"] {
            try tls.write("\(domain)/fullchain.pem", "dummy certificate\n")
            try tls.write("\(domain)/privkey.pem", "dummy key\n")
        }
        let secrets = try Self.secretsDirectory()
        let main = repositoryConfPath("portcullis.yaml")

        let configuration = try withExtendedLifetime(secrets) {
            try ConfigLoader.load(
                file: main, environment: ["PORTCULLIS_TLS_DIR": tls.path, "PORTCULLIS_SECRETS_DIR": secrets.path])
        }

        #expect(configuration.files == [main] + Self.routeFiles.map { repositoryConfPath("routes.d/\($0).yaml") })
        #expect(configuration.edge.id == "edge-1")
        #expect(configuration.listeners.map(\.name) == ["public", "local"])
        let certificates = configuration.listeners[0].tls?.certificates ?? []
        #expect(
            certificates.map(\.certificatePath) == [
                "\(tls.path)/example.com/fullchain.pem", "\(tls.path)/example.net/fullchain.pem",
            ])
        #expect(certificates.first?.serverNames == ["example.com", "*.example.com"])
        #expect(configuration.listeners[1].tls == nil)
        #expect(configuration.admin.address == HostPort(host: "127.0.0.1", port: 9090))
        #expect(configuration.upstreams.keys.sorted() == ["app", "chat", "model-api", "static"])
        #expect(configuration.routes.map(\.name) == ["api", "assets", "realtime"] + Self.routeNames + ["site"])
        #expect(configuration.routes[2].socket?.app == "echo")
        let chat = try #require(configuration.routes.first { $0.name == "marketplace-chat" })
        #expect(chat.socket?.app == "marketplace-chat" && chat.listeners.isEmpty)
        #expect(chat.auth?.keySet == "products" && chat.auth?.tokenSources == [.query("token")])
        #expect(chat.socket?.socketIO?.path == "/v1/conversations/sockets")
        #expect(chat.socket?.socketIO?.namespaces == ["/v1/conversations/events"])
        #expect(chat.socket?.socketIO?.refreshEvent == "verify_user")
        #expect(configuration.bus.prefix == "portcullis")
    }

    /// The files under routes.d/, in the order the include loads them, and their routes.
    static let routeFiles = ["community", "example", "marketplace-chat", "model-activity", "shared-notifications"]
    static let routeNames = [
        "community", "chat", "marketplace-chat", "model-activity", "model-api", "shared-notifications",
    ]

    /// The secrets the production example's key sets and cookie checks read.
    static func secretsDirectory() throws -> ConfDirectory {
        let secrets = try ConfDirectory()
        try secrets.write("products-hs256.key", String(repeating: "k", count: 32))
        try secrets.write("cookie-secrets", "dev-cookie-secret\n")
        return secrets
    }

    @Test func productionExampleWithoutCertificatesReportsOnlyTheMissingFiles() throws {
        let empty = try ConfDirectory()
        let secrets = try Self.secretsDirectory()
        do {
            _ = try withExtendedLifetime(secrets) {
                try ConfigLoader.load(
                    file: repositoryConfPath("portcullis.yaml"),
                    environment: ["PORTCULLIS_TLS_DIR": empty.path, "PORTCULLIS_SECRETS_DIR": secrets.path]
                )
            }
            Issue.record("loaded without certificate files")
        } catch let errors as ConfigErrors {
            // The four certificate files only.
            #expect(errors.errors.count == 4)
            #expect(errors.errors.allSatisfy { $0.code == .missingFile })
        }
    }

    @Test func developmentConfLoadsWithTheCertificateAndKeyScriptsRunCreates() throws {
        let repository = try ConfDirectory()
        let dev = try String(contentsOfFile: repositoryConfPath("dev.yaml"), encoding: .utf8)
        try repository.write("conf/dev.yaml", dev)
        try repository.write(".dev/tls/cert.pem", "dummy certificate\n")
        try repository.write(".dev/tls/key.pem", "dummy key\n")
        try repository.write(".dev/keys/products.key", String(repeating: "a", count: 64))
        for file in Self.routeFiles where file != "example" {
            let text = try String(contentsOfFile: repositoryConfPath("routes.d/\(file).yaml"), encoding: .utf8)
            try repository.write("conf/routes.d/\(file).yaml", text)
        }
        try repository.write(".dev/keys/publish.key", String(repeating: "0f", count: 32) + "\n")
        try repository.write(".dev/keys/cookie-secrets", String(repeating: "c", count: 64) + "\n")

        let configuration = try repository.load("conf/dev.yaml")

        #expect(configuration.edge.id == "dev-1")
        #expect(configuration.listeners.map(\.address.description) == ["127.0.0.1:8080", "127.0.0.1:8443"])
        #expect(
            configuration.listeners[1].tls?.certificates.map(\.certificatePath) == [
                repository.path(".dev/tls/cert.pem")
            ])
        #expect(
            configuration.listeners[1].tls?.certificates.map(\.privateKeyPath) == [repository.path(".dev/tls/key.pem")])
        #expect(configuration.admin.address.description == "127.0.0.1:9090")
        #expect(configuration.upstreams["demo"]?.servers == [HostPort(host: "127.0.0.1", port: 9001)])
        #expect(
            configuration.routes.map(\.name) == ["echo"] + Self.routeNames.filter { $0 != "chat" } + ["demo-page", "demo"])
        #expect(configuration.upstreams.keys.sorted() == ["demo", "model-api"])
        #expect(configuration.routes.first?.match.path == "/ws/echo")
        #expect(configuration.routes.last?.match.path == "/")
        #expect(configuration.routes.first?.socket?.app == "echo")
        #expect(configuration.redis?.url == "redis://127.0.0.1:6379/0")
        #expect(configuration.admin.publish?.key == String(repeating: "0f", count: 32))
        #expect(configuration.routes.first { $0.name == "shared-notifications" }?.socket?.emitEndpoints != nil)
    }

    /// The example socket routes load when included as their comments show.
    @Test func socketRouteExamplesLoadWhenIncluded() throws {
        let repository = try ConfDirectory()
        for example in ["socketio-compliance.yaml", "actioncable-chat.yaml"] {
            let text = try String(contentsOfFile: repositoryConfPath("examples/\(example)"), encoding: .utf8)
            try repository.write("conf/examples/\(example)", text)
        }
        try repository.write(
            "conf/edge.yaml",
            """
            version: 1
            listeners:
              - name: plain
                address: "127.0.0.1:8080"
            redis:
              url: redis://127.0.0.1:6379
            routes:
              - include: examples/socketio-compliance.yaml
              - include: examples/actioncable-chat.yaml
            """)

        let configuration = try repository.load("conf/edge.yaml")

        let socketIO = try #require(configuration.routes.first?.socket)
        #expect(socketIO.wireProtocol == .socketio && socketIO.app == "socketio-reference")
        #expect(socketIO.socketIO?.namespaces == ["/", "/custom"])
        #expect(socketIO.socketIO?.pingInterval == .milliseconds(300))
        let cable = try #require(configuration.routes.last?.socket)
        #expect(cable.wireProtocol == .actioncable && cable.app == "cable-chat")
        #expect(cable.subprotocols == ["actioncable-v1-json"])
    }
}
