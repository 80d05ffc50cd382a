/// A cluster node's answer that a key's slot is served elsewhere: `-MOVED <slot>
/// <host>:<port>` (the slot map changed: remember the new owner) or `-ASK <slot>
/// <host>:<port>` (the slot is being migrated: send this one command there, after
/// `ASKING`).
struct RedisClusterRedirect: Hashable {
    enum Kind: Hashable {
        case moved
        case ask
    }

    var kind: Kind
    var slot: Int
    var endpoint: RedisConfiguration.Endpoint

    init(kind: Kind, slot: Int, endpoint: RedisConfiguration.Endpoint) {
        self.kind = kind
        self.slot = slot
        self.endpoint = endpoint
    }

    /// The redirect `error` carries, or nil when it is not one. An empty host (a node that
    /// does not know its own address) means the host of `node`, the node that answered.
    init?(_ error: RedisError, from node: RedisConfiguration.Endpoint) {
        guard error.code == .server else { return nil }
        let words = error.message.split(separator: " ")
        guard words.count == 3, let slot = Int(words[1]), (0..<RedisKeySlot.count).contains(slot),
            let colon = words[2].lastIndex(of: ":"), let port = Int(words[2][words[2].index(after: colon)...])
        else { return nil }
        switch words[0] {
        case "MOVED": self.kind = .moved
        case "ASK": self.kind = .ask
        default: return nil
        }
        var host = String(words[2][..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        if host.isEmpty, let known = node.host {
            host = known
        }
        self.slot = slot
        self.endpoint = .tcp(host: host, port: port)
    }
}
