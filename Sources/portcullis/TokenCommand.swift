import ArgumentParser
import PortcullisAuth
import PortcullisConfig

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `portcullis token mint|verify`: sign tokens for testing and operations, and check a
/// token against key files the way the edge would.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Mint and verify JWTs.",
        subcommands: [Mint.self, Verify.self]
    )

    /// `token mint`: prints one signed token on standard output.
    struct Mint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a JWT with a secret (HS*) or a PEM private key (RS*/ES*) and print it.",
            discussion: """
                Examples:
                  portcullis token mint --key keys/2025-06.pem --alg RS256 --kid 2025-06 --sub user-42 \\
                      --scope "chat:read chat:write" --ttl 15m --iss https://auth.example.com --aud edge
                  portcullis token mint --key secrets/hs.key --alg HS256 --sub svc-billing --claim tenant=7
                """
        )

        @Option(help: "Signing key file: an HMAC secret for HS*, a PEM private key for RS*/ES*.")
        var key: String

        @Option(help: "HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384 or ES512.")
        var alg: String

        @Option(help: "The subject (sub).")
        var sub: String

        @Option(help: "Space-separated scopes, written as the scope claim.")
        var scope: String?

        @Option(help: "Lifetime: exp = now + ttl (30s, 15m, 1h, 1d).")
        var ttl: String = "1h"

        @Option(help: "Not-before delay: nbf = now + delay. Omitted by default.")
        var notBefore: String?

        @Option(help: "The kid header, naming the key in the edge's key set.")
        var kid: String?

        @Option(help: "The issuer (iss).")
        var iss: String?

        @Option(help: "The audience (aud).")
        var aud: String?

        @Option(help: "The token id (jti). A random one by default.")
        var jti: String?

        @Option(help: "The typ header; JWT by default, at+jwt for RFC 9068 access tokens (RS*/ES* only).")
        var typ: String?

        @Option(
            name: .customLong("claim"),
            help: "An extra claim, name=value; the value is JSON when it parses as JSON, else a string. Repeatable.")
        var claims: [String] = []

        func validate() throws {
            guard JWTAlgorithm(name: alg) != nil else { throw ValidationError("unknown --alg \(alg)") }
            guard ConfigValue.duration(ttl) != nil else { throw ValidationError("--ttl: not a duration: \(ttl)") }
            if let notBefore, ConfigValue.duration(notBefore) == nil {
                throw ValidationError("--not-before: not a duration: \(notBefore)")
            }
            for claim in claims where !claim.contains("=") || claim.hasPrefix("=") {
                throw ValidationError("--claim wants name=value, got \(claim)")
            }
        }

        func run() throws {
            let algorithm = JWTAlgorithm(name: alg)!
            let now = Int64(time(nil))
            var token = TokenClaims(
                subject: sub,
                scopes: scope.map { $0.split(separator: " ").map(String.init) } ?? [],
                issuedAt: now,
                expiresAt: now + ConfigValue.duration(ttl)!.components.seconds,
                notBefore: notBefore.map { now + ConfigValue.duration($0)!.components.seconds },
                issuer: iss,
                audience: aud,
                tokenId: jti ?? KeyGenerator.randomKeyID()
            )
            for claim in claims {
                let equals = claim.firstIndex(of: "=")!
                token.setClaim(String(claim[..<equals]), value: String(claim[claim.index(after: equals)...]))
            }
            do {
                let minter = try TokenMinter(algorithm: algorithm, keyFile: key)
                print(try minter.mint(token, keyID: kid, type: typ))
            } catch {
                printError("token mint: \(error)")
                throw ExitCode(1)
            }
        }
    }

    /// `token verify`: exit 0 and the identity as JSON, or exit 1 and the reason.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a JWT against key files; print the identity as JSON (exit 0) or the reason (exit 1).",
            discussion: """
                Keys: any number of --jwks files (tokens must name a key with kid), and/or one --pem or --hmac
                file with --alg: it verifies tokens of that algorithm, whatever kid they name unless --kid
                is given (then only that kid, or none).
                  portcullis token verify --jwks /etc/portcullis/keys/jwks.json --iss https://auth.example.com "$TOKEN"
                """
        )

        @Option(help: "A JWK Set file. Repeatable.")
        var jwks: [String] = []

        @Option(help: "A PEM public key file (needs --alg RS*/ES*).")
        var pem: String?

        @Option(help: "An HMAC secret file (needs --alg HS*).")
        var hmac: String?

        @Option(help: "The algorithm of the --pem or --hmac key.")
        var alg: String?

        @Option(help: "The kid of the --pem or --hmac key; without it, the key answers to the token's kid.")
        var kid: String?

        @Option(help: "An accepted issuer. Repeatable; none means any.")
        var iss: [String] = []

        @Option(help: "An accepted audience. Repeatable; none means aud is not checked.")
        var aud: [String] = []

        @Option(help: "A scope the token must have. Repeatable.")
        var scope: [String] = []

        @Option(help: "Allowed clock skew, at most 5m.")
        var leeway: String = "30s"

        @Option(help: ArgumentHelp("Verify as of this Unix time instead of now.", visibility: .hidden))
        var now: Double?

        @Argument(help: "The token; - reads it from standard input.")
        var token: String

        func validate() throws {
            if pem != nil || hmac != nil {
                guard pem == nil || hmac == nil else { throw ValidationError("give --pem or --hmac, not both") }
                guard let alg, let algorithm = JWTAlgorithm(name: alg) else {
                    throw ValidationError("--pem and --hmac need --alg")
                }
                guard algorithm.isSymmetric == (hmac != nil) else {
                    throw ValidationError("--hmac goes with HS* and --pem with RS*/ES*")
                }
            }
            guard !jwks.isEmpty || pem != nil || hmac != nil else {
                throw ValidationError("give at least one --jwks, --pem or --hmac")
            }
            guard let leewayValue = ConfigValue.duration(leeway), leewayValue <= .seconds(300) else {
                throw ValidationError("--leeway: a duration of at most 5m")
            }
        }

        func run() throws {
            let text = token == "-" ? (readLine(strippingNewline: true) ?? "") : token
            var sources = jwks.map { KeySource(kind: .jwks, path: $0) }
            if let path = pem ?? hmac, let alg {
                // One key file stands for the key the token names: asking for --kid again
                // when the file can only be that key was a needless refusal.
                let keyID = kid ?? UnverifiedJWTHeader.keyID(of: text)
                sources.append(
                    KeySource(
                        kind: pem != nil ? .pem : .secret, path: path, algorithm: JWTAlgorithm(name: alg),
                        keyID: keyID, isDefault: true))
            }
            let keys: KeySet
            do {
                keys = try KeySet.load(sources)
            } catch {
                printError("token verify: \(error)")
                throw ExitCode(1)
            }
            for warning in keys.warnings { printError("token verify: \(warning)") }
            let policy = JWTPolicy(
                issuers: iss, audiences: aud, requiredScopes: scope,
                leeway: ConfigValue.duration(leeway)!.components.seconds)
            var clock = timespec()
            clock_gettime(CLOCK_REALTIME, &clock)
            let current = now ?? Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9
            switch JWTVerifier(keys: keys, policy: policy).verify(text, now: current) {
            case .success(let identity):
                print(identity.jsonDescription)
            case .failure(let failure):
                print("invalid: \(failure)")
                throw ExitCode(1)
            }
        }
    }
}
