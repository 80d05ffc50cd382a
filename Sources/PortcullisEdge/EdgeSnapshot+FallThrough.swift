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

    /// Every route warning `portcullis check` prints, as `file:line: warning: …` lines.
    public var routeWarningLines: [String] {
        routeFallThroughs.map(\.warningLine) + routeHostShadowings.map(\.warningLine)
    }

    /// Logs each fall-through at warning level; called when a snapshot starts serving (at
    /// start and after a reload), so an operator who never ran `portcullis check` sees them.
    public func logRouteFallThroughs(to logger: Logger) {
        for fallThrough in routeFallThroughs {
            let location = fallThrough.protected.route.location
            logger.warning(
                "route falls through to a route without auth",
                metadata: [
                    "route.name": "\(fallThrough.protected.name)",
                    "fallback.name": "\(fallThrough.fallback.name)",
                    "location": "\(location.file):\(location.line)",
                    "detail": "\(fallThrough.description)",
                ]
            )
        }
        for shadowing in routeHostShadowings {
            let location = shadowing.protected.route.location
            logger.warning(
                "route is shadowed by a route without auth on a more specific host",
                metadata: [
                    "route.name": "\(shadowing.protected.name)",
                    "fallback.name": "\(shadowing.fallback.name)",
                    "location": "\(location.file):\(location.line)",
                    "detail": "\(shadowing.description)",
                ]
            )
        }
    }
}
