import ArgumentParser
import Logging
import PortcullisBus
import PortcullisConfig
import PortcullisRooms
import PortcullisSystemd
import Prometheus
import Metrics
import ServiceLifecycle

/// The rooms worker: runs the configured apps' handlers on the bus (see docs/bus.md).
@main
struct PortcullisRoomsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portcullis-rooms",
        abstract: "Room handlers for Portcullis: consume the bus's inbound streams and answer.",
        version: "portcullis-rooms \(PortcullisVersion.current)",
        subcommands: [Serve.self, Check.self]
    )
}

/// Options every command that reads the conf file shares.
struct ConfigOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The rooms configuration file.")
    var config: String = "conf/rooms.yaml"
}

/// `portcullis-rooms serve --config FILE`: runs until SIGTERM/SIGINT, then drains.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the worker.")

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Log level (trace, debug, info, notice, warning, error, critical).")
    var logLevel: Logger.Level = .info

    @Option(
        name: .long,
        help: """
            This worker's consumer name, overriding worker.id (the systemd template passes \
            <host>-<instance>, stable across restarts).
            """)
    var workerID: String?

    func validate() throws {
        if let workerID, workerID.isEmpty || workerID.contains(where: \.isWhitespace) {
            throw ValidationError("--worker-id: a consumer name without spaces")
        }
    }

    func run() async throws {
        var settings = try loadSettings(self.options.config)
        if let workerID { settings.workerID = workerID }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = self.logLevel
            return handler
        }
        var logger = Logger(label: "portcullis.rooms")
        logger[metadataKey: "rooms.worker"] = "\(settings.workerID)"
        let configuration = try settings.redisConfiguration()
        // Unusable TLS files stop the start here, not in every reconnect's log line.
        _ = try configuration.tls?.makeContext()
        let redis = RedisClient(configuration: configuration, logger: logger)
        let apps = settings.apps.compactMap { RoomsApps.builtIn[$0] }
        let worker = try RoomsWorker(settings: settings, apps: apps, redis: redis, logger: logger)
        let reaper = try PresenceReaper(settings: settings, redis: redis, logger: logger)
        let readiness = RoomsReadiness(apps: settings.apps)
        let monitor = try GroupMonitor(settings: settings, redis: redis, readiness: readiness, logger: logger)
        var services: [any Service] = [worker, reaper, monitor]
        if let address = settings.adminAddress {
            services.append(AdminServer(address: address, registry: registry, readiness: readiness, logger: logger))
        }
        if let notifier = SystemdNotifier.fromProcessEnvironment() {
            services.append(
                SystemdService(notifier: notifier, status: "serving \(settings.apps.joined(separator: ", "))"))
        }
        let group = ServiceGroup(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        do {
            try await group.run()
        } catch {
            await redis.close()
            throw error
        }
        await redis.close()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
