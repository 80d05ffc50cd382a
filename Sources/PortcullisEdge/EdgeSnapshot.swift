import NIOConcurrencyHelpers
import NIOCore
import PortcullisAuth
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
    /// The admin listener's TLS contexts (`admin.tls`); nil: plain HTTP.
    let adminTLS: TLSContextSet?
    /// The publish API's key and limits; nil when `admin.publish` is absent.
    let publishing: PublishPolicy?
    /// Auth policies by route index; nil for public routes.
    let guards: [RouteGuard?]
    /// The verification keys this snapshot trusts, by key set name.
    let keySets: [String: KeySet]
    /// Fingerprints of the cookie secrets, the signing one first (``SessionCookie/fingerprint(of:)``).
    let cookieSecretFingerprints: [String]

    /// One line per key set: what the running edge verifies with, in the answer to a reload
    /// and in `portcullis check` (`key set main: es-2026-11 ES256, hs-1 HS256 default`), and
    /// one for the cookie secrets, by fingerprint.
    public var keySummary: [String] {
        self.keySets.keys.sorted().map { name in
            let keys = self.keySets[name]!.entries.map { entry in
                [entry.keyID ?? "(no kid)", entry.algorithm.name, entry.isDefault ? "default" : nil]
                    .compactMap { $0 }.joined(separator: " ")
            }
            return "key set \(name): " + (keys.isEmpty ? "no keys" : keys.joined(separator: ", "))
        }
            + (self.cookieSecretFingerprints.isEmpty
                ? []
                : [
                    "cookie secrets (sha256 prefixes, signing first): "
                        + self.cookieSecretFingerprints.joined(separator: ", ")
                ])
    }

    /// How a snapshot that failed to build is reported for conf file `configPath`: prefixed
    /// with the conf path unless the error names its own file and line.
    public static func describe(_ error: any Error, configPath: String) -> String {
        if let error = error as? SnapshotError, error.isLocated { return error.message }
        return "\(configPath): \(error)"
    }

    /// The guard of the route named `name` in this snapshot: a socket that lives across
    /// reloads finds its route by name, since indexes may shift.
    func guardOf(route name: String) -> RouteGuard? {
        guard let index = configuration.routes.firstIndex(where: { $0.name == name }) else { return nil }
        return guards[index]
    }
    /// Headers the edge owns (`x-auth-subject`, `x-auth-scopes`, every configured claim
    /// header and socket id header), lower-cased: client-sent copies are removed on every
    /// route.
    let identityHeaders: [String]
    /// Every header the edge sets on a proxied request (identity, forwarding, request id),
    /// lower-cased: no `Connection` nomination removes them and no `_` spelling passes.
    let ownedHeaders: Set<String>

    /// - Parameter previous: health records of servers that are still configured carry over.
    public init(configuration: Configuration, previous: EdgeSnapshot? = nil) throws {
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
        self.adminTLS = try configuration.admin.tls.map(TLSContextSet.init(settings:))
        self.publishing = configuration.admin.publish.map { PublishPolicy(settings: $0, routes: configuration.routes) }
        var keySets: [String: KeySet] = [:]
        for (name, sources) in configuration.auth.keySets {
            do {
                keySets[name] = try KeySet.load(sources.map(Self.keySource))
            } catch {
                let place = sources.first.map { "\($0.location.file):\($0.location.line)" } ?? "auth.key_sets"
                throw SnapshotError(message: "\(place): key set \"\(name)\": \(error)", isLocated: sources.first != nil)
            }
        }
        self.keySets = keySets
        let cache =
            configuration.auth.tokenCacheSize > 0 ? TokenCache(capacity: configuration.auth.tokenCacheSize) : nil
        var cookieSecrets: [String] = []
        if let file = configuration.auth.cookieSecretsFile {
            do {
                cookieSecrets = try SessionCookie.loadSecrets(file: file)
            } catch {
                throw SnapshotError(message: "\(file): \(error)")
            }
        }
        self.cookieSecretFingerprints = cookieSecrets.map(SessionCookie.fingerprint(of:))
        let material = RouteGuard.Material(
            cookieSecrets: cookieSecrets,
            sessionPrefix: configuration.auth.sessionPrefix,
            sessionUserField: configuration.auth.sessionUserField,
            revocationPrefix: configuration.auth.revocationPrefix
        )
        self.guards = try configuration.routes.map { route in
            try route.auth.map { try RouteGuard(policy: $0, keySets: keySets, cache: cache, material: material) }
        }
        var identityHeaders = ["x-auth-subject", "x-auth-scopes"]
        for route in configuration.routes {
            for claim in route.auth?.claimHeaders ?? [] where !identityHeaders.contains(claim.header.lowercased()) {
                identityHeaders.append(claim.header.lowercased())
            }
            if let header = route.auth?.socketIDHeader, !identityHeaders.contains(header) {
                identityHeaders.append(header)
            }
        }
        self.identityHeaders = identityHeaders
        self.ownedHeaders = Set(identityHeaders + HeaderRewriting.forwardingHeaders + ["x-request-id"])
    }

    /// Every listener certificate's expiry (the admin listener's as `admin`), in listener order.
    var certificateExpiries: [CertificateExpiry] {
        var expiries: [CertificateExpiry] = []
        for listener in configuration.listeners {
            for (serverName, notAfter) in tls[listener.name]?.expiries ?? [] {
                expiries.append(CertificateExpiry(listener: listener.name, serverName: serverName, notAfter: notAfter))
            }
        }
        for (serverName, notAfter) in adminTLS?.expiries ?? [] {
            expiries.append(CertificateExpiry(listener: "admin", serverName: serverName, notAfter: notAfter))
        }
        return expiries
    }

    private static func keySource(_ settings: KeySourceSettings) -> KeySource {
        let kind: KeySource.Kind =
            switch settings.kind {
            case .jwks: .jwks
            case .pem: .pem
            case .secret: .secret
            }
        return KeySource(
            kind: kind, path: settings.path, algorithm: settings.alg.flatMap(JWTAlgorithm.init(name:)),
            keyID: settings.kid, isDefault: settings.isDefault)
    }
}

/// Holds the current snapshot; readers on any thread, one writer at a time (reload).
public final class SnapshotBox: Sendable {
    private let box: NIOLockedValueBox<EdgeSnapshot>

    public init(_ snapshot: EdgeSnapshot) {
        self.box = NIOLockedValueBox(snapshot)
        EdgeMetrics.shared.certificates(snapshot.certificateExpiries)
    }

    public var current: EdgeSnapshot {
        box.withLockedValue { $0 }
    }

    public func replace(with snapshot: EdgeSnapshot) {
        box.withLockedValue { $0 = snapshot }
        EdgeMetrics.shared.certificates(snapshot.certificateExpiries)
    }
}
