import CoreMetrics
import NIOConcurrencyHelpers
import NIOCore
import PortcullisConfig

/// One configured upstream pool, resolved once when a snapshot is built.
///
/// Server addresses are resolved at load time (a DNS change needs a reload). Health is
/// shared by every event loop: a server that refuses `maxFails` connects in a row is
/// skipped for `failTimeout`, then tried again.
final class UpstreamGroup: Sendable {
    let name: String
    let settings: Upstream
    let servers: [UpstreamServer]

    init(settings: Upstream, health: (HostPort) -> ServerHealth) throws {
        self.name = settings.name
        self.settings = settings
        self.servers = try settings.servers.map { hostPort in
            UpstreamServer(
                address: try SocketAddress.makeAddressResolvingHost(hostPort.host, port: hostPort.port),
                label: hostPort.description,
                health: health(hostPort),
                responseTimer: EdgeMetrics.shared.upstreamTimer(upstream: settings.name, server: hostPort.description)
            )
        }
    }
}

/// A resolved upstream server and its shared health record.
struct UpstreamServer: Sendable {
    let address: SocketAddress
    /// `host:port`, used in logs and as the key of idle connection lists.
    let label: String
    let health: ServerHealth
    /// `portcullis_upstream_duration_seconds` of this server, looked up once per snapshot
    /// so the response path records without a lookup.
    let responseTimer: CoreMetrics.Timer
}

/// Passive health of one server: consecutive connect failures and an ejection deadline.
final class ServerHealth: Sendable {
    private struct State {
        var consecutiveFailures = 0
        var ejectedUntil: NIODeadline = .distantPast
    }
    private let state = NIOLockedValueBox(State())

    func isAvailable(now: NIODeadline) -> Bool {
        state.withLockedValue { $0.ejectedUntil <= now }
    }

    /// Records a failed connect; returns true when this failure ejected the server.
    func recordFailure(now: NIODeadline, maxFails: Int, failTimeout: TimeAmount) -> Bool {
        state.withLockedValue { state in
            state.consecutiveFailures += 1
            guard state.consecutiveFailures >= maxFails else { return false }
            state.consecutiveFailures = 0
            state.ejectedUntil = now + failTimeout
            return true
        }
    }

    func recordSuccess() {
        state.withLockedValue { state in
            state.consecutiveFailures = 0
        }
    }
}

extension Duration {
    /// The same span as a NIO `TimeAmount`.
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
