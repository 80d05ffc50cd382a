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
        let configuration = try loadConfiguration(options.config)
        Self.bootstrapLogging(level: logLevel, format: configuration.edge.logFormat)
        let logger = Logger(label: "portcullis")
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = EdgeMetrics.durationBuckets
        MetricsSystem.bootstrap(factory)
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

extension Serve {
    /// Every log line goes to stderr in `edge.log_format`; a reload does not change it.
    private static func bootstrapLogging(level: Logger.Level, format: LogFormat) {
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler
            switch format {
            case .text: handler = StreamLogHandler.standardError(label: label)
            case .logfmt: handler = LineLogHandler(label: label, format: .logfmt)
            case .json: handler = LineLogHandler(label: label, format: .json)
            }
            handler.logLevel = level
            return handler
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
