import NIOConcurrencyHelpers
import NIOCore
import PortcullisConfig

/// Everything a request needs from the configuration, built once and then immutable:
/// the compiled route table, resolved upstream pools and TLS contexts.
///
/// Building reads files and resolves names, so it happens off the event loops; handlers
/// read the current snapshot from a `SnapshotBox` per request, so a reload takes effect
/// for new requests while requests in flight finish on the snapshot they started with.
public final class EdgeSnapshot: Sendable {
    public let configuration: Configuration
    public let routes: RouteTable
    let upstreams: [String: UpstreamGroup]
    let tls: [String: TLSContextSet]

    /// - Parameter previous: health records of servers that are still configured carry over.
    public init(configuration: Configuration, previous: EdgeSnapshot? = nil) throws {
        // Fail closed: a policy this build cannot enforce must never serve the route openly.
        if let route = configuration.routes.first(where: { $0.auth != nil }) {
            throw SnapshotError(
                message: "\(route.location(of: "name")): route \"\(route.name)\" has an auth policy, "
                    + "and this build does not enforce auth policies yet; refusing to serve it unprotected")
        }
        self.configuration = configuration
        self.routes = RouteTable(routes: configuration.routes)
        var healthByServer: [String: ServerHealth] = [:]
        for group in previous?.upstreams.values.map({ $0 }) ?? [] {
            for server in group.servers { healthByServer["\(group.name)/\(server.label)"] = server.health }
        }
        var upstreams: [String: UpstreamGroup] = [:]
        for (name, settings) in configuration.upstreams {
            upstreams[name] = try UpstreamGroup(settings: settings) { hostPort in
                healthByServer["\(name)/\(hostPort)"] ?? ServerHealth()
            }
        }
        self.upstreams = upstreams
        var tls: [String: TLSContextSet] = [:]
        for listener in configuration.listeners {
            if let settings = listener.tls {
                tls[listener.name] = try TLSContextSet(settings: settings)
            }
        }
        self.tls = tls
    }
}

/// Holds the current snapshot; readers on any thread, one writer at a time (reload).
public final class SnapshotBox: Sendable {
    private let box: NIOLockedValueBox<EdgeSnapshot>

    public init(_ snapshot: EdgeSnapshot) {
        self.box = NIOLockedValueBox(snapshot)
    }

    public var current: EdgeSnapshot {
        box.withLockedValue { $0 }
    }

    public func replace(with snapshot: EdgeSnapshot) {
        box.withLockedValue { $0 = snapshot }
    }
}
