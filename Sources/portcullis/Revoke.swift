import ArgumentParser
import Foundation
import Logging
import PortcullisBus
import PortcullisConfig

/// `portcullis revoke`: records a revocation in Redis, where every edge checks it on each
/// authentication (cached tokens included).
///
/// `--jti` revokes one token until `--ttl` (set it to the longest token lifetime you
/// issue); `--subject` revokes every token of a subject issued before now. Either also
/// closes the live sockets it covers on every edge (a `disconnect` envelope on
/// `<prefix>:out:bcast` to the token or the user, reason `token_revoked`), with the
/// protocol's notice and close code 4001.
struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Revoke a token (--jti) or every token of a subject issued before now (--subject)."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "The token's jti.")
    var jti: String?

    @Option(help: "The subject (sub) whose earlier tokens are revoked.")
    var subject: String?

    @Option(help: "How long the revocation is kept (for --jti: at least the token's remaining lifetime).")
    var ttl: String = "24h"

    func validate() throws {
        guard (jti == nil) != (subject == nil) else {
            throw ValidationError("give exactly one of --jti and --subject")
        }
        guard let duration = ConfigValue.duration(ttl), duration > .zero else {
            throw ValidationError("--ttl must be a duration like 24h, got \"\(ttl)\"")
        }
    }

    func run() async throws {
        let configuration = try loadConfiguration(options.config)
        guard let redis = configuration.redis else {
            printError("\(options.config): no redis.url: revocations live in Redis")
            throw ExitCode(1)
        }
        let seconds = Int(ConfigValue.duration(ttl)!.components.seconds)
        let prefix = configuration.auth.revocationPrefix
        let key: String
        let value: String
        if let jti {
            key = prefix + "jti:" + jti
            value = "1"
        } else {
            key = prefix + "sub:" + subject!
            value = String(Int(Date().timeIntervalSince1970))
        }
        let client = RedisClient(
            configuration: try RedisConfiguration(settings: redis),
            logger: Logger(label: "portcullis.revoke")
        )
        do {
            let reply = try await client.send([
                "SET", RedisArgument(key), RedisArgument(value), "EX", RedisArgument(String(seconds)),
            ]).get()
            guard reply.string == "OK" else {
                await client.close()
                printError("redis answered \(reply)")
                throw ExitCode(1)
            }
            let names = try StreamNames(prefix: configuration.bus.prefix, redis: configuration.redis)
            let disconnect = Envelope(
                id: Envelope.randomID(), kind: .disconnect, target: subject.map { .user($0) } ?? .token(jti ?? ""),
                reason: "token_revoked", timestamp: Int64(Date().timeIntervalSince1970 * 1000))
            try await client.xadd(names.broadcast, trim: StreamNames.broadcastTrim, envelope: disconnect)
            await client.close()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            await client.close()
            printError("cannot write the revocation to redis: \(error)")
            throw ExitCode(1)
        }
        print("revoked \(jti.map { "token \($0)" } ?? "tokens of \(subject!) issued before now") for \(ttl) (\(key))")
        if let subject {
            print("asked every edge to close the live sockets of \(subject)")
        }
    }
}
