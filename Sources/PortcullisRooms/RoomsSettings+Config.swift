import Foundation
import PortcullisBus
import Yams

/// Decoding of `conf/rooms.yaml`. Keys (unknown keys are errors):
///
/// | key                     | type      | default           |
/// |-------------------------|-----------|-------------------|
/// | `redis.url`             | string    | required          |
/// | `bus.prefix`            | string    | `portcullis`      |
/// | `worker.id`             | string    | `<hostname>-<pid>`|
/// | `worker.claim_idle`     | duration  | `30s`             |
/// | `worker.max_deliveries` | int ≥ 1   | `5`               |
/// | `worker.reap_interval`  | duration  | `5s`              |
/// | `apps`                  | [string]  | required, ≥ 1     |
///
/// Durations are `250ms`, `30s`, `5m`, `1h` or a bare number of seconds. Errors carry the
/// file and the line of the offending node (PortcullisConfig's reader is internal to that
/// module, so this is a small reader over Yams nodes with the same error format).
extension RoomsSettings {
    /// `<hostname>-<pid>`.
    public static var defaultWorkerID: String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// Reads and decodes `file`. `knownApps`, when given, limits `apps` to those names.
    public static func load(file: String, knownApps: Set<String>? = nil) throws(RoomsConfigError) -> RoomsSettings {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw RoomsConfigError(
                file: file, line: nil, key: "", message: "cannot read file: \(error.localizedDescription)")
        }
        return try Self.decode(yaml: text, file: file, knownApps: knownApps)
    }

    /// Decodes YAML text; `file` is only used in error messages.
    public static func decode(yaml text: String, file: String, knownApps: Set<String>? = nil) throws(RoomsConfigError)
        -> RoomsSettings
    {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw RoomsConfigError(file: file, line: 1, key: "", message: "empty file")
            }
            root = node
        } catch let error as RoomsConfigError {
            throw error
        } catch let error as YamlError {
            throw RoomsConfigError(file: file, line: Self.line(of: error), key: "", message: "invalid YAML: \(error)")
        } catch {
            throw RoomsConfigError(file: file, line: nil, key: "", message: "invalid YAML: \(error)")
        }
        let reader = NodeReader(file: file)
        let top = try reader.mapping(root, key: "", allowed: ["redis", "bus", "worker", "apps"])

        guard let redisNode = top["redis"] else {
            throw reader.error(root, key: "redis.url", "missing key")
        }
        let redis = try reader.mapping(redisNode, key: "redis", allowed: ["url"])
        guard let urlNode = redis["url"] else { throw reader.error(redisNode, key: "redis.url", "missing key") }
        let url = try reader.string(urlNode, key: "redis.url")
        do {
            _ = try RedisConfiguration(url: url)
        } catch {
            throw reader.error(urlNode, key: "redis.url", "\(error)")
        }

        var settings = RoomsSettings(redisURL: url, apps: [])
        if let busNode = top["bus"] {
            let bus = try reader.mapping(busNode, key: "bus", allowed: ["prefix"])
            if let prefixNode = bus["prefix"] {
                let prefix = try reader.string(prefixNode, key: "bus.prefix")
                do {
                    _ = try StreamNames(prefix: prefix)
                } catch {
                    throw reader.error(prefixNode, key: "bus.prefix", error.message)
                }
                settings.prefix = prefix
            }
        }
        if let workerNode = top["worker"] {
            let worker = try reader.mapping(
                workerNode, key: "worker", allowed: ["id", "claim_idle", "max_deliveries", "reap_interval"])
            if let node = worker["id"] {
                let id = try reader.string(node, key: "worker.id")
                guard !id.isEmpty, !id.contains(where: \.isWhitespace) else {
                    throw reader.error(node, key: "worker.id", "must be non-empty, without spaces")
                }
                settings.workerID = id
            }
            if let node = worker["claim_idle"] {
                settings.claimIdle = try reader.positiveDuration(node, key: "worker.claim_idle")
            }
            if let node = worker["reap_interval"] {
                settings.reapInterval = try reader.positiveDuration(node, key: "worker.reap_interval")
            }
            if let node = worker["max_deliveries"] {
                let text = try reader.string(node, key: "worker.max_deliveries")
                guard let count = Int(text), count >= 1 else {
                    throw reader.error(node, key: "worker.max_deliveries", "expected an integer ≥ 1, got \"\(text)\"")
                }
                settings.maxDeliveries = count
            }
        }
        guard let appsNode = top["apps"] else { throw reader.error(root, key: "apps", "missing key") }
        guard let sequence = appsNode.sequence, !sequence.isEmpty else {
            throw reader.error(appsNode, key: "apps", "expected a non-empty list of app names")
        }
        for (index, node) in sequence.enumerated() {
            let key = "apps[\(index)]"
            let app = try reader.string(node, key: key)
            guard StreamNames.isValidApp(app) else {
                throw reader.error(
                    node, key: key, "use 1…\(StreamNames.maximumAppLength) characters from A-Z a-z 0-9 _ -")
            }
            if let knownApps, !knownApps.contains(app) {
                throw reader.error(
                    node, key: key, "unknown app \"\(app)\" (known: \(knownApps.sorted().joined(separator: ", ")))")
            }
            guard !settings.apps.contains(app) else {
                throw reader.error(node, key: key, "app \"\(app)\" listed twice")
            }
            settings.apps.append(app)
        }
        return settings
    }

    /// `250ms`, `30s`, `5m`, `1h`, or a bare number of seconds.
    static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)), value >= 0 else { return nil }
            return .milliseconds(Int64((value * scale * 1000).rounded()))
        }
        guard let seconds = Double(text), seconds >= 0 else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }
}

/// Reads Yams nodes and turns type mistakes into ``RoomsConfigError``s with a line.
private struct NodeReader {
    var file: String

    func error(_ node: Node, key: String, _ message: String) -> RoomsConfigError {
        RoomsConfigError(file: self.file, line: node.mark?.line, key: key, message: message)
    }

    func mapping(_ node: Node, key: String, allowed: Set<String>) throws(RoomsConfigError) -> [String: Node] {
        guard let mapping = node.mapping else {
            throw self.error(node, key: key, "expected a mapping")
        }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            let name = keyNode.string ?? ""
            let path = key.isEmpty ? name : "\(key).\(name)"
            guard allowed.contains(name) else {
                throw self.error(
                    keyNode, key: path, "unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))")
            }
            result[name] = value
        }
        return result
    }

    func string(_ node: Node, key: String) throws(RoomsConfigError) -> String {
        guard let scalar = node.scalar else { throw self.error(node, key: key, "expected a scalar value") }
        return scalar.string
    }

    /// A duration greater than zero (see ``RoomsSettings/parseDuration(_:)``).
    func positiveDuration(_ node: Node, key: String) throws(RoomsConfigError) -> Duration {
        let text = try self.string(node, key: key)
        guard let duration = RoomsSettings.parseDuration(text), duration > .zero else {
            throw self.error(node, key: key, "expected a positive duration such as 30s or 500ms, got \"\(text)\"")
        }
        return duration
    }
}
