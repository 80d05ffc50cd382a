import Logging
import PortcullisConfig

extension EdgeSnapshot {
    /// Requests that slip past an auth route's method or listener filter to a broader public
    /// route (see `RouteTable.fallThroughs(listeners:)`).
    public var routeFallThroughs: [RouteTable.FallThrough] {
        routes.fallThroughs(listeners: configuration.listeners.map(\.name))
    }

    /// Hosts on which a host-less or wildcard auth route's path reaches a more specific
    /// public route (see `RouteTable.hostShadowings(listeners:)`).
    public var routeHostShadowings: [RouteTable.HostShadowing] {
        routes.hostShadowings(listeners: configuration.listeners.map(\.name))
    }

    /// Every way around a route's auth that `portcullis check` prints and `serve` logs.
    public var routeAuthWarnings: [any RouteAuthWarning] {
        routeFallThroughs + routeHostShadowings
    }

    /// Logs each warning at warning level; called when a snapshot starts serving (at start
    /// and after a reload), so an operator who never ran `portcullis check` sees them.
    public func logRouteAuthWarnings(to logger: Logger) {
        for warning in routeAuthWarnings {
            let location = warning.protected.route.location
            logger.warning(
                "route auth can be sidestepped",
                metadata: [
                    "route.name": "\(warning.protected.name)",
                    "fallback.name": "\(warning.fallback.name)",
                    "location": "\(location.file):\(location.line)",
                    "detail": "\(warning.description)",
                ]
            )
        }
    }
}
