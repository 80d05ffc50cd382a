import Foundation
import PortcullisBus
import PortcullisConfig

/// Decoding of `conf/rooms.yaml` with the edge's conf reader (PortcullisConfig), so both
/// conf files follow the same rules: `${VAR}` and `${VAR:-default}` expansion, durations
/// with units, unknown keys reported with a did-you-mean, and every mistake in the file
/// reported at once as `file:line: key: message`.
///
/// | key                     | type                                   | default            |
/// |-------------------------|----------------------------------------|--------------------|
/// | `version`               | int, must be 1                         | `1`                |
/// | `redis.url`             | `redis://…`, `rediss://…` or `unix://…` URL | required      |
/// | `redis.username`        | ACL user (needs `password_file`)       | the default user   |
/// | `redis.password_file`   | file holding the password              | none               |
/// | `redis.tls.*`           | `ca_file`, `certificate_file`, `private_key_file`, `server_name` (rediss://) | system roots, the host |
/// | `bus.prefix`            | 1–64 of `A-Z a-z 0-9 _ - . :`          | `portcullis`       |
/// | `worker.id`             | string without whitespace              | `<hostname>-<pid>` |
/// | `worker.claim_idle`     | duration > 0                           | `30s`              |
/// | `worker.max_deliveries` | int ≥ 1                                | `5`                |
/// | `worker.reap_interval`  | duration > 0                           | `5s`               |
/// | `apps`                  | list of known app names, ≥ 1, unique   | required           |
/// | `admin.address`         | host:port                              | none (no listener) |
extension RoomsSettings {
    /// `<hostname>-<pid>`.
    public static var defaultWorkerID: String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// Reads and decodes `file`; throws every mistake found, one `file:line: key: message`
    /// line each in the errors' description.
    ///
    /// - Parameters:
    ///   - knownApps: The names `apps` may list (the binary's built-in apps).
    ///   - environment: Variables for `${VAR}` expansion.
    public static func load(
        file: String,
        knownApps: Set<String>,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigErrors) -> RoomsSettings {
        try ConfigLoader.load(file: file, environment: environment) { mapping in
            Self.decode(mapping, knownApps: knownApps.sorted())
        }
    }

    /// Decodes the root mapping; values that fail to decode keep placeholders, which the
    /// loader never returns because it reported them.
    private static func decode(_ mapping: MappingReader, knownApps: [String]) -> RoomsSettings {
        _ = mapping.optional("version")?.formatVersion()
        var settings = RoomsSettings(redisURL: "", apps: [])
        if let redis = mapping.required("redis").flatMap(Self.redis) {
            settings.redis = redis
        }
        if let bus = mapping.optional("bus") {
            bus.mapping { bus in
                let prefix = bus.optional("prefix")?.name(extra: "_-.:", maxLength: StreamNames.maximumPrefixLength)
                if let prefix {
                    settings.prefix = prefix
                }
            }
        }
        if let worker = mapping.optional("worker") {
            worker.mapping { worker in Self.decodeWorker(worker, into: &settings) }
        }
        if let admin = mapping.optional("admin") {
            admin.mapping { admin in
                settings.adminAddress = admin.required("address")?.hostPort()
            }
        }
        if let apps = mapping.required("apps").flatMap({ Self.apps($0, knownApps: knownApps) }) {
            settings.apps = apps
        }
        return settings
    }

    /// `redis` as the edge reads it (``RedisSettings/decode(_:)``), its URL then checked the
    /// way the worker's Redis client will parse it.
    private static func redis(_ reader: ConfigReader) -> RedisSettings? {
        guard let settings = RedisSettings.decode(reader) else { return nil }
        do {
            _ = try RedisConfiguration(settings: settings)
        } catch let error as RedisError {
            // The message never repeats the URL, which may hold a password.
            reader.fail(error.message, at: settings.location)
            return nil
        } catch {
            reader.fail("invalid Redis URL", at: settings.location)
            return nil
        }
        return settings
    }

    private static func decodeWorker(_ worker: MappingReader, into settings: inout RoomsSettings) {
        if let reader = worker.optional("id"), let id = reader.string() {
            if id.isEmpty || id.contains(where: \.isWhitespace) {
                reader.fail("expected a consumer name without spaces, got \(reader.quoted(id))")
            } else {
                settings.workerID = id
            }
        }
        if let idle = worker.optional("claim_idle")?.duration() {
            settings.claimIdle = idle
        }
        if let count = worker.optional("max_deliveries")?.int(min: 1) {
            settings.maxDeliveries = count
        }
        if let interval = worker.optional("reap_interval")?.duration() {
            settings.reapInterval = interval
        }
    }

    /// `apps`: at least one, each a name this binary knows, none twice.
    private static func apps(_ reader: ConfigReader, knownApps: [String]) -> [String]? {
        var items = 0
        var firstKeys: [String: String] = [:]
        let apps = reader.list { item -> String? in
            items += 1
            guard let app = item.name(maxLength: StreamNames.maximumAppLength) else { return nil }
            guard knownApps.contains(app) else {
                let hint =
                    Suggestion.closest(to: app, among: knownApps).map { " (did you mean \"\($0)\"?)" }
                    ?? " (this build has \(knownApps.joined(separator: ", ")))"
                item.fail("unknown app \(item.quoted(app))\(hint)", code: .unknownReference)
                return nil
            }
            if let first = firstKeys[app] {
                item.fail("duplicate app \(item.quoted(app)) (first at \(first))", code: .duplicate)
                return nil
            }
            firstKeys[app] = item.location.keyPath
            return app
        }
        if apps != nil, items == 0 {
            reader.fail("needs at least one app")
        }
        return apps
    }
}
