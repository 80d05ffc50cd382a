import ArgumentParser
import Logging
import Metrics
import PortcullisConfig
import PortcullisEdge
import PortcullisSystemd
import Prometheus
import ServiceLifecycle

/// `portcullis serve`: runs the edge until SIGTERM or SIGINT, then drains.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the edge.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "portcullis")
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = EdgeMetrics.durationBuckets
        MetricsSystem.bootstrap(factory)
        let configuration = try loadConfiguration(options.config)
        let snapshot: EdgeSnapshot
        do {
            snapshot = try EdgeSnapshot(configuration: configuration)
        } catch {
            printError(EdgeSnapshot.describe(error, configPath: options.config))
            throw ExitCode(1)
        }
        snapshot.logRouteAuthWarnings(to: logger)
        let edge = EdgeServer(
            snapshot: snapshot, configPath: options.config, logger: logger, metrics: registry,
            notifier: SystemdNotifier.fromProcessEnvironment())
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: edge), .init(service: edge.reloader)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch let error as ListenerError {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
