import ArgumentParser
import PortcullisAuth

/// `portcullis keys generate|retire|list`: manage the JWK Set the edge verifies with.
/// See docs/keys.md for the rotation procedure these steps belong to.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Generate, retire and list JWT signing keys.",
        subcommands: [Generate.self, Retire.self, List.self]
    )

    /// `keys generate`: a new key under a fresh random kid; prints the kid.
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a signing key with a fresh kid and print the kid.",
            discussion: """
                RS*/ES*: the public key is added to --jwks (created when missing) and the private key is written
                to --private-out (mode 0600, never overwritten; default <jwks directory>/<kid>.key.pem).
                HS*: the secret is written to --private-out only (default ./<kid>.secret); HMAC keys never go in a
                JWKS. Configure it in a key set as {secret_file: <file>, alg: <alg>, kid: <kid>} (docs/keys.md).
                """
        )

        @Option(help: "RS256, RS384, RS512, ES256, ES384, ES512, HS256, HS384 or HS512.")
        var alg: String

        @Option(help: "The JWK Set file to add the public key to (RS*/ES*).")
        var jwks: String?

        @Option(help: "Where to write the private key or secret (mode 0600).")
        var privateOut: String?

        @Option(help: "Use this kid instead of a random one.")
        var kid: String?

        func validate() throws {
            guard let algorithm = JWTAlgorithm(name: alg) else { throw ValidationError("unknown --alg \(alg)") }
            if algorithm.isSymmetric {
                guard jwks == nil else {
                    throw ValidationError("\(alg) secrets are never written to a JWKS; drop --jwks (see docs/keys.md)")
                }
            } else if jwks == nil {
                throw ValidationError("\(alg) needs --jwks FILE for the public key")
            }
        }

        func run() throws {
            let algorithm = JWTAlgorithm(name: alg)!
            do {
                let key = try KeyGenerator.generate(algorithm, keyID: kid)
                let privatePath: String
                if let privateOut {
                    privatePath = privateOut
                } else if let jwks {
                    let directory = jwks.lastIndex(of: "/").map { String(jwks[...$0]) } ?? ""
                    privatePath = directory + key.keyID + ".key.pem"
                } else {
                    privatePath = key.keyID + ".secret"
                }
                try PrivateKeyFile.write(key.privateMaterial, to: privatePath)
                if let jwks {
                    try JWKSFile.add(key, to: jwks)
                    printError("added \(algorithm) key \(key.keyID) to \(jwks); private key in \(privatePath)")
                } else {
                    printError("\(algorithm) secret for kid \(key.keyID) written to \(privatePath)")
                }
                print(key.keyID)
            } catch {
                printError("keys generate: \(error)")
                throw ExitCode(1)
            }
        }
    }

    /// `keys retire`: removes one key from the JWKS; tokens signed with it stop
    /// verifying at the next reload.
    struct Retire: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a key from a JWK Set (after the longest token lifetime has passed)."
        )

        @Option(help: "The JWK Set file.")
        var jwks: String

        @Option(help: "The kid to remove.")
        var kid: String

        func run() throws {
            do {
                try JWKSFile.remove(keyID: kid, from: jwks)
                printError("removed \(kid) from \(jwks); reload the edge to apply")
            } catch {
                printError("keys retire: \(error)")
                throw ExitCode(1)
            }
        }
    }

    /// `keys list`: one line per key, `kid alg kty use`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys in a JWK Set.")

        @Option(help: "The JWK Set file.")
        var jwks: String

        func run() throws {
            do {
                for key in try JWKSFile.list(jwks) {
                    print([key.keyID, key.algorithm, key.keyType, key.use].map { $0 ?? "-" }.joined(separator: " "))
                }
            } catch {
                printError("keys list: \(error)")
                throw ExitCode(1)
            }
        }
    }
}
