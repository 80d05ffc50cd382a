import Foundation
import Logging
import PortcullisConfig
import PortcullisSystemd
import ServiceLifecycle
import UnixSignals

/// What a reload did, for logs, `POST /reload` and `portcullis reload`.
public struct ReloadOutcome: Sendable {
    public let applied: Bool
    /// Validation errors (one per line) when refused, notes when applied.
    public let message: String
}

/// Builds a new snapshot from the conf files and swaps it in: on SIGHUP, on
/// `POST /reload` at the admin listener, and when a watched file (conf files, includes,
/// TLS certificates and keys, JWT key files, cookie secrets, the publish API's key file)
/// changes.
///
/// Building reads and parses files, so it runs on a task, never on an event loop. A conf
/// that fails validation or cannot be built is refused and the running snapshot stays.
/// Listener addresses, the admin address (and whether it speaks TLS) and the event loop
/// count are bound at start: changing them needs a restart, which the reload logs.
public final class ConfigReloader: Service, Sendable {
    private let configPath: String
    private let snapshots: SnapshotBox
    private let logger: Logger
    private let serializer = ReloadSerializer()
    private let notifier: SystemdNotifier?

    public init(configPath: String, snapshots: SnapshotBox, logger: Logger, notifier: SystemdNotifier? = nil) {
        self.configPath = configPath
        self.snapshots = snapshots
        self.logger = logger
        self.notifier = notifier
    }

    /// Every reload, whatever asked for it, is bracketed for systemd by `RELOADING=1` and
    /// `READY=1` (a refused conf leaves the previous one serving: still ready).
    public func reload(reason: String) async -> ReloadOutcome {
        let outcome = await serializer.run {
            self.notifier?.reloading()
            let outcome = self.reloadNow(reason: reason)
            self.notifier?.ready(status: outcome.applied ? "reloaded (\(reason))" : "reload refused (\(reason))")
            return outcome
        }
        EdgeMetrics.shared.reload(applied: outcome.applied)
        return outcome
    }

    public func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                for await _ in hangups {
                    _ = await self.reload(reason: "SIGHUP")
                }
            }
            tasks.addTask {
                await self.watchFiles()
            }
            try? await gracefulShutdown()
            tasks.cancelAll()
        }
    }

    private func reloadNow(reason: String) -> ReloadOutcome {
        let current = snapshots.current
        let configuration: Configuration
        do {
            configuration = try ConfigLoader.load(file: configPath)
        } catch {
            let message = (error as? ConfigErrors)?.description ?? "\(configPath): \(error)"
            logger.error(
                "reload refused: configuration invalid", metadata: ["reason": "\(reason)", "errors": "\(message)"])
            return ReloadOutcome(applied: false, message: message)
        }
        let next: EdgeSnapshot
        do {
            next = try EdgeSnapshot(configuration: configuration, previous: current)
        } catch {
            let message = EdgeSnapshot.describe(error, configPath: configPath)
            logger.error("reload refused", metadata: ["reason": "\(reason)", "error": "\(message)"])
            return ReloadOutcome(applied: false, message: message)
        }
        snapshots.replace(with: next)
        next.logRouteAuthWarnings(to: logger)
        var notes: [String] = []
        if Self.bindings(of: current.configuration) != Self.bindings(of: configuration) {
            notes.append(
                "listener addresses, the admin address or TLS, event_loops, edge.id, redis settings or bus settings changed: "
                    + "restart to apply them")
            logger.warning("reload: listener changes need a restart", metadata: ["reason": "\(reason)"])
        }
        logger.info(
            "configuration reloaded",
            metadata: [
                "reason": "\(reason)", "routes": "\(configuration.routes.count)",
                "files": "\(configuration.files.count)",
            ]
        )
        return ReloadOutcome(
            applied: true, message: (["reloaded"] + next.keySummary + notes).joined(separator: "\n"))
    }

    /// Polls the fingerprints of every file the running snapshot came from.
    private func watchFiles() async {
        var known = FileFingerprint.of(Self.watchedFiles(snapshots.current.configuration))
        while !Task.isCancelled {
            let interval = snapshots.current.configuration.edge.watchInterval
            try? await Task.sleep(for: interval > .zero ? interval : .seconds(2))
            guard !Task.isCancelled, snapshots.current.configuration.edge.watchInterval > .zero else { continue }
            let now = FileFingerprint.of(Self.watchedFiles(snapshots.current.configuration))
            if now != known {
                _ = await reload(reason: "file changed")
                // Fingerprint what the (possibly refused) reload saw, so a broken file is
                // reported once, not every interval.
                known = FileFingerprint.of(Self.watchedFiles(snapshots.current.configuration))
            }
        }
    }

    static func watchedFiles(_ configuration: Configuration) -> [String] {
        var files = configuration.files
        for tls in configuration.listeners.map(\.tls) + [configuration.admin.tls] {
            for certificate in tls?.certificates ?? [] {
                files.append(certificate.certificatePath)
                files.append(certificate.privateKeyPath)
            }
        }
        if let publish = configuration.admin.publish {
            files.append(publish.keyFile)
        }
        for sources in configuration.auth.keySets.values {
            files += sources.map(\.path)
        }
        if let secrets = configuration.auth.cookieSecretsFile {
            files.append(secrets)
        }
        return files
    }

    private static func bindings(of configuration: Configuration) -> [String] {
        configuration.listeners.map { "\($0.name)=\($0.address)" } + [
            "admin=\(configuration.admin.address) tls=\(configuration.admin.tls != nil)",
            "loops=\(configuration.edge.eventLoops)",
            "edge=\(configuration.edge.id)",
            "redis=\(configuration.redis?.url ?? "-") \(configuration.redis?.username ?? "-")",
            "redis.tls=\(configuration.redis?.tls.map { "\($0)" } ?? "-")",
            "redis.sentinel=\(configuration.redis?.sentinel.map { "\($0)" } ?? "-")",
            "bus=\(configuration.bus.prefix) \(configuration.bus.heartbeatInterval) \(configuration.bus.heartbeatTTL) "
                + "\(configuration.bus.maxBufferedAppends)",
        ]
    }
}

/// Runs reloads one at a time.
private actor ReloadSerializer {
    func run(_ body: @Sendable () -> ReloadOutcome) -> ReloadOutcome {
        body()
    }
}

/// Size, modification time and inode of a set of files; a rename-over (how editors and
/// certificate tools replace files) changes the inode even when size and time match.
struct FileFingerprint: Equatable {
    private var entries: [String: [Int]]

    static func of(_ paths: [String]) -> FileFingerprint {
        var entries: [String: [Int]] = [:]
        for path in paths {
            var info = stat()
            if stat(path, &info) == 0 {
                entries[path] = [
                    Int(info.st_size), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec), Int(info.st_ino),
                ]
            } else {
                entries[path] = []
            }
        }
        return FileFingerprint(entries: entries)
    }
}
