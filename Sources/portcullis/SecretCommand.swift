import ArgumentParser
import PortcullisAuth

/// `portcullis secret generate|sign-cookie|verify-cookie`: session-cookie secrets,
/// compatible with express-session (docs/keys.md for rotation).
struct SecretCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret",
        abstract: "Generate cookie secrets; sign and check express-session cookies.",
        subcommands: [Generate.self, SignCookie.self, VerifyCookie.self]
    )

    /// `secret generate`: 32 random bytes, base64url, one line.
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a new random cookie secret (32 bytes, base64url)."
        )

        func run() {
            print(KeyGenerator.cookieSecret())
        }
    }

    /// `secret sign-cookie`: the `connect.sid` value express would send for a sid.
    struct SignCookie: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the URL-encoded signed cookie value for a session id (signed with the first secret)."
        )

        @Option(help: "The secrets file: one secret per line, the first signs.")
        var secrets: String

        @Argument(help: "The session id.")
        var sid: String

        func run() throws {
            guard let secret = try readSecrets(secrets).first else {
                printError("secret sign-cookie: \(secrets) has no secret")
                throw ExitCode(1)
            }
            print(SessionCookie.encodedValue(sid: sid, secret: secret))
        }
    }

    /// `secret verify-cookie`: prints the sid (exit 0) or exits 1.
    struct VerifyCookie: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a cookie value (as sent, URL-encoded) against every secret; print the session id."
        )

        @Option(help: "The secrets file: one secret per line.")
        var secrets: String

        @Argument(help: "The cookie value, e.g. s%3A....")
        var value: String

        func run() throws {
            guard let sid = SessionCookie.unsign(value: value, secrets: try readSecrets(secrets)) else {
                print("invalid: \(AuthFailure.Code.badCookie)")
                throw ExitCode(1)
            }
            print(sid)
        }
    }
}

private func readSecrets(_ path: String) throws -> [String] {
    do {
        return try SessionCookie.loadSecrets(file: path)
    } catch {
        printError("secret: \(error)")
        throw ExitCode(1)
    }
}
