import PortcullisConfig
import Testing

/// `socket.compression:` (permessage-deflate): off by default, `on`, or a mapping.
@Suite struct SocketCompressionConfigTests {
    private static let head = """
        version: 1
        listeners: [{name: main, address: 127.0.0.1:8080}]
        redis: {url: redis://127.0.0.1:6379}

        """

    private func socket(_ compression: String) throws -> SocketAction {
        let conf = try ConfDirectory()
        try conf.write(
            "main.yaml",
            Self.head + "routes:\n  - {name: echo, match: {path: /ws}, socket: {app: echo\(compression)}}\n")
        return try #require(try conf.load("main.yaml").routes.first?.socket)
    }

    @Test func compressionIsOffUnlessConfigured() throws {
        #expect(try socket("").compression == nil)
        #expect(try socket(", compression: off").compression == nil)
        #expect(try socket(", compression: {enabled: false, min_size: 1KiB}").compression == nil)
    }

    @Test func onTakesTheDefaults() throws {
        let compression = try #require(try socket(", compression: on").compression)
        #expect(compression == SocketAction.Compression())
        #expect(compression.serverNoContextTakeover && compression.clientNoContextTakeover)
        #expect(compression.serverMaxWindowBits == 15 && compression.clientMaxWindowBits == 15)
        #expect(compression.minSize == 256)
    }

    @Test func everyCompressionKeyIsDecoded() throws {
        let compression = try #require(
            try socket(
                """
                , compression: {enabled: true, server_no_context_takeover: false, client_no_context_takeover: false,
                server_max_window_bits: 10, client_max_window_bits: 9, min_size: 1KiB}
                """
            ).compression)
        #expect(!compression.serverNoContextTakeover && !compression.clientNoContextTakeover)
        #expect(compression.serverMaxWindowBits == 10 && compression.clientMaxWindowBits == 9)
        #expect(compression.minSize == 1024)
    }

    @Test func badCompressionSettingsNameFileLineAndKey() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            Self.head + """
                routes:
                  - name: echo
                    match: {path: /ws}
                    socket:
                      app: echo
                      compression:
                        server_max_window_bits: 8
                        client_max_window_bits: 16
                        min_size: lots
                        server_no_context: true
                  - {name: other, match: {path: /other}, socket: {app: echo, compression: maybe}}
                """)
        let key = "routes[0].socket.compression"
        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):10: \(key).server_max_window_bits: must be between 9 and 15, got 8",
                "\(file):11: \(key).client_max_window_bits: must be between 8 and 15, got 16",
                "\(file):12: \(key).min_size: expected a size like 64KiB, got \"lots\"",
                "\(file):13: \(key).server_no_context: unknown key",
                "\(file):14: routes[1].socket.compression: expected on, off or a mapping, got \"maybe\"",
            ])
    }
}
