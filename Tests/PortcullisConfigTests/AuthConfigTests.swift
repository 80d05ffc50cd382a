import PortcullisConfig
import Testing

@Suite struct AuthConfigTests {
    private func base(_ routes: String, auth: String = "", redis: String = "") -> String {
        """
        version: 1
        listeners:
          - { name: public, address: "127.0.0.1:8080" }
        upstreams:
          app: { servers: ["127.0.0.1:3000"] }
        \(auth)
        \(redis)
        routes:
        \(routes)
        """
    }

    @Test func aJWTPolicyWithKeySetsLoads() throws {
        let conf = try ConfDirectory()
        try conf.write("keys/jwks.json", "{\"keys\": []}")
        try conf.write("keys/hs.key", "0123456789abcdef0123456789abcdef")
        try conf.write(
            "main.yaml",
            base(
                """
                  - name: api
                    match: { path: /api }
                    proxy: { upstream: app }
                    auth:
                      key_set: main
                      tokens: [header, "query:token", "cookie:access_token", subprotocol]
                      issuers: [https://id.example.com]
                      audiences: [api]
                      scopes: [read, write]
                      leeway: 10s
                      claim_headers: { X-Auth-Tenant: tenant }
                      origins: ["https://app.example.com", "https://*.example.com"]
                """,
                auth: """
                    auth:
                      key_sets:
                        main:
                          - { jwks_file: keys/jwks.json }
                          - { secret_file: keys/hs.key, alg: HS256, kid: h1, default: true }
                    """
            )
        )
        let configuration = try conf.load("main.yaml")
        let auth = try #require(configuration.routes.first?.auth)
        #expect(auth.methods == [.jwt])
        #expect(auth.keySet == "main")
        #expect(auth.tokenSources == [.header, .query("token"), .cookie("access_token"), .subprotocol])
        #expect(auth.scopes == ["read", "write"])
        #expect(auth.leeway == .seconds(10))
        #expect(auth.claimHeaders == [ClaimHeader(header: "X-Auth-Tenant", claim: "tenant")])
        #expect(auth.origins == ["https://app.example.com", "https://*.example.com"])
        #expect(auth.clients == .server)
        let sources = try #require(configuration.auth.keySets["main"])
        #expect(sources.map(\.kind) == [.jwks, .secret])
        #expect(sources[1].alg == "HS256" && sources[1].kid == "h1" && sources[1].isDefault)
    }

    @Test func brokenPoliciesNameFileLineAndKey() throws {
        let conf = try ConfDirectory()
        let file = try conf.write(
            "main.yaml",
            base(
                """
                  - name: api
                    match: { path: /api }
                    proxy: { upstream: app }
                    auth:
                      key_set: mian
                      tokens: [headr]
                  - name: web
                    match: { path: /web }
                    proxy: { upstream: app }
                    auth:
                      methods: [session]
                      origins: ["https://app.example.com/path"]
                """,
                auth: """
                    auth:
                      key_sets:
                        main:
                          - { pem_file: keys/missing.pem }
                    """
            )
        )
        let errors = conf.errors(loading: "main.yaml")
        #expect(errors.contains("\(file):9: auth.key_sets.main[0]: pem_file needs alg (the one algorithm this key may verify)"))
        #expect(errors.contains { $0.hasPrefix("\(file):9: auth.key_sets.main[0].pem_file: ") && $0.contains("missing.pem") })
        #expect(errors.contains("\(file):16: routes[0].auth.key_set: no key set named \"mian\" under auth.key_sets (declared: main)"))
        #expect(
            errors.contains(
                "\(file):17: routes[0].auth.tokens[0]: expected header, query:NAME, cookie:NAME, subprotocol or socketio, got \"headr\""))
        #expect(errors.contains { $0.hasPrefix("\(file):23: routes[1].auth.origins[0]: expected an origin like") })
        #expect(errors.contains("\(file):22: routes[1].auth.methods: session needs auth.cookie_secrets_file"))
        #expect(errors.contains("\(file):22: routes[1].auth.methods: session needs redis.url (sessions are looked up in Redis)"))
        #expect(errors.count == 7, "an invalid origin must not also report a missing allow-list")
    }

    @Test func aSecretFileCannotBeUsedForAnAsymmetricAlgorithm() throws {
        let conf = try ConfDirectory()
        try conf.write("hs.key", "0123456789abcdef0123456789abcdef")
        let file = try conf.write(
            "main.yaml",
            base(
                "  []",
                auth: """
                    auth:
                      key_sets:
                        main: [ { secret_file: hs.key, alg: RS256 } ]
                    """
            )
        )
        #expect(
            conf.errors(loading: "main.yaml") == [
                "\(file):8: auth.key_sets.main[0]: a secret_file is an HMAC key: alg must be HS256, HS384 or HS512"
            ])
    }
}
