import PortcullisAuth
import PortcullisConfig

/// What the publish API needs from one configuration, built with its snapshot: a reload
/// that changes the key file, the body limit or the `emit_endpoints` route takes effect
/// for the next request, and the old key's digest is wiped with the old snapshot.
struct PublishPolicy: Sendable {
    let key: BearerKey
    let maxBodySize: Int
    /// Where `/emit` delivers; nil: no socket route declares `emit_endpoints`.
    let emitRoute: EmitRoute?

    init(settings: PublishSettings, routes: [Route]) {
        self.key = BearerKey(settings.key)
        self.maxBodySize = settings.maxBodySize
        self.emitRoute = EmitRoute(routes: routes)
    }
}
