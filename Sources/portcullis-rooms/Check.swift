import ArgumentParser
import Foundation
import PortcullisBus
import PortcullisConfig
import PortcullisRooms

/// `portcullis-rooms check --config FILE`: validates the worker's conf file like
/// `portcullis check` does the edge's, and prints what `serve` would run.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the configuration and print a summary; exit 78 (EX_CONFIG) on errors."
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let settings = try loadSettings(self.options.config)
        print(Self.describe(settings))
        print("configuration OK: \(self.options.config)")
    }

    /// What the worker will connect to and serve; the Redis URL is shown without its
    /// credentials.
    static func describe(_ settings: RoomsSettings) -> String {
        var redis = settings.redisURL
        if let configuration = try? settings.redisConfiguration() {
            redis = "\(configuration.endpoint) db \(configuration.database)"
            if let sentinel = configuration.sentinel {
                let addresses = sentinel.addresses.map(\.description).joined(separator: ", ")
                redis = "master '\(sentinel.masterName)' from sentinels \(addresses), db \(configuration.database)"
            }
            if let cluster = configuration.cluster {
                redis = "Redis Cluster from seeds " + cluster.seeds.map(\.description).joined(separator: ", ")
            }
            if configuration.tls != nil { redis += " over TLS" }
            if let username = configuration.username {
                redis += " (as \(username), with password)"
            } else if configuration.password != nil {
                redis += " (with password)"
            }
        }
        let workerID =
            settings.workerID == RoomsSettings.defaultWorkerID ? "<hostname>-<pid> (default)" : settings.workerID
        return """
            redis   \(redis)
            bus     prefix \(settings.prefix)
            worker  id \(workerID), claim_idle \(Self.conf(settings.claimIdle)), \
            max_deliveries \(settings.maxDeliveries), reap_interval \(Self.conf(settings.reapInterval))
            apps    \(settings.apps.joined(separator: ", "))
            """
    }

    private static let units: [(name: String, milliseconds: Int64)] = [
        ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1),
    ]

    /// A duration in conf syntax (`30s`, `1m30s`, `250ms`).
    private static func conf(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        var rest = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        guard rest > 0 else { return "0s" }
        var text = ""
        for unit in Self.units where rest >= unit.milliseconds {
            text += "\(rest / unit.milliseconds)\(unit.name)"
            rest %= unit.milliseconds
        }
        return text
    }
}

/// Loads `path` with the built-in app names; on failure prints every error as
/// `file:line: key: message`, the format of `portcullis check`, and exits 78 (EX_CONFIG).
func loadSettings(_ path: String) throws -> RoomsSettings {
    do {
        return try RoomsSettings.load(file: path, knownApps: Set(RoomsApps.builtIn.keys))
    } catch {
        printError(error.description)
        throw ExitCode(78)
    }
}

/// Writes one line to standard error (errors for operators, not log records).
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
