/// Presence cleanup: when an edge dies, the `close` envelopes it never wrote are produced
/// from its connection registry, so that handlers forget those connections (rooms, user
/// presence) as if each had closed.
///
/// An edge keeps three things in Redis (docs/bus.md, "Presence keys"): its id in the set
/// `<prefix>:edges`, a heartbeat key `<prefix>:edge:<edge>:alive` with a TTL, and the hash
/// `<prefix>:edge:<edge>:conns` (field = connection id, value = ``PresenceRecord`` JSON).
/// ``reap(edge:names:redis:reason:now:)`` turns every field of that hash into `close`
/// envelopes on `<prefix>:in:<app>` and deletes it. `portcullis-rooms` calls it for edges
/// whose heartbeat expired (through ``reapIfDead(edge:names:redis:reason:now:)``); an edge
/// calls it for its own id when it starts, for what a previous run with that id left.
///
/// Safe to run twice, or in two processes at once: envelope ids are derived from the
/// connection id and the namespace's index (``closeEnvelopeID(connection:index:)``), so a
/// second writer produces duplicates that the workers' dedupe skips, and a field is deleted
/// only after its envelopes were appended (a reaper that fails half-way leaves the rest,
/// and the next run writes the same ids again).
public enum EdgePresence {
    /// Fields asked for per HSCAN page; also bounds the XADDs in flight at once.
    static let batchSize = 500

    /// Writes a `close` envelope to `<prefix>:in:<app>` for every connection and namespace
    /// in `<prefix>:edge:<edge>:conns`, deleting each field once its envelopes are written;
    /// then, if the hash is gone and the edge's `alive` key is absent, removes `edge` from
    /// `<prefix>:edges`.
    ///
    /// A field whose value is not a ``PresenceRecord`` (or names an invalid app) is deleted
    /// without writing anything. Stops with `CancellationError` between pages when the
    /// task is cancelled; what was not reaped yet stays for the next call.
    ///
    /// - Parameters:
    ///   - reason: the `reason` field of every `close`.
    ///   - now: the `ts` field, in ms since the Unix epoch.
    ///   - sparing: connections left registered and open; an edge reaping what a previous
    ///     run left passes its own run's connection-id prefix, since it may already be
    ///     registering new connections.
    /// - Returns: the number of `close` envelopes written.
    /// - Throws: ``StreamNames/InvalidName`` for an invalid edge id; ``RedisError``.
    @discardableResult
    public static func reap(
        edge: String,
        names: StreamNames,
        redis: some RedisCommandSender,
        reason: String = "edge gone",
        now: Int64,
        sparing: (String) -> Bool = { _ in false }
    ) async throws -> Int {
        try await Self.reap(
            edge: edge, names: names, redis: redis, reason: reason, now: now, onlyWhileDead: false, sparing: sparing)
    }

    /// ``reap(edge:names:redis:reason:now:)`` for another process's edge: it checks the
    /// `alive` key before each page and stops as soon as it exists, so that an edge that
    /// restarted with the same id (and is registering new connections) is left alone.
    ///
    /// - Returns: the number of `close` envelopes written; 0 for an edge that is alive.
    @discardableResult
    public static func reapIfDead(
        edge: String,
        names: StreamNames,
        redis: some RedisCommandSender,
        reason: String = "edge gone",
        now: Int64
    ) async throws -> Int {
        try await Self.reap(
            edge: edge, names: names, redis: redis, reason: reason, now: now, onlyWhileDead: true,
            sparing: { _ in false })
    }

    /// Whether the edge's heartbeat key `<prefix>:edge:<edge>:alive` exists (`EXISTS`).
    public static func isAlive(edge: String, names: StreamNames, redis: some RedisCommandSender) async throws -> Bool {
        try await redis.exists([try names.edgeAlive(edge: edge)]) > 0
    }

    /// The `id` of the `close` envelope for namespace number `index` of `connection` (0 for
    /// a connection without namespaces): `close:<connection>:<index>`. When that would be
    /// longer than ``Envelope/maximumIDLength`` bytes, `close:~<32 hex digits>:<index>`,
    /// the digits a hash of the connection id (`~` never starts a connection id).
    public static func closeEnvelopeID(connection: String, index: Int) -> String {
        let plain = "close:\(connection):\(index)"
        if plain.utf8.count <= Envelope.maximumIDLength {
            return plain
        }
        let high = Self.fnv1a(connection.utf8, basis: 0xcbf2_9ce4_8422_2325)
        let low = Self.fnv1a(connection.utf8, basis: 0x84222325_cbf29ce4)
        return "close:~\(Self.hex(high))\(Self.hex(low)):\(index)"
    }

    /// The `close` envelopes for one connection of a dead edge: one per namespace, or one
    /// without `ns` when the record has none.
    public static func closeEnvelopes(
        connection: String,
        record: PresenceRecord,
        edge: String,
        reason: String,
        now: Int64
    ) -> [Envelope] {
        let namespaces: [String?] = record.namespaces.isEmpty ? [nil] : record.namespaces
        return namespaces.enumerated().map { index, namespace in
            Envelope(
                id: Self.closeEnvelopeID(connection: connection, index: index), kind: .close, app: record.app,
                edge: edge, connection: connection, user: record.user, namespace: namespace, reason: reason,
                timestamp: now
            )
        }
    }

    /// Removes the edge from `<prefix>:edges` only while its registry is empty and its
    /// heartbeat absent, atomically, so that an edge that came back (and registered again)
    /// in the meantime keeps its place.
    /// KEYS: conns hash, alive key, edges set; ARGV: edge id.
    private static let unregisterScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[2]) == 0 then
          return redis.call('SREM', KEYS[3], ARGV[1])
        end
        return 0
        """

    private static func reap(
        edge: String,
        names: StreamNames,
        redis: some RedisCommandSender,
        reason: String,
        now: Int64,
        onlyWhileDead: Bool,
        sparing: (String) -> Bool
    ) async throws -> Int {
        let registry = try names.edgeConnections(edge: edge)
        let alive = try names.edgeAlive(edge: edge)
        var cursor: UInt64 = 0
        var written = 0
        // HSCAN may return a field twice while deletions shrink the hash; write it once.
        var handled = Set<String>()
        repeat {
            try Task.checkCancellation()
            if onlyWhileDead, try await redis.exists([alive]) > 0 {
                return written
            }
            let page = try await redis.hscan(registry, cursor: cursor, count: Self.batchSize)
            var appends: [(stream: StreamName, envelope: Envelope)] = []
            let reaped = page.fields.filter { !sparing($0.name) }
            for (connection, value) in reaped where handled.insert(connection).inserted {
                guard let record = try? PresenceRecord(json: String(buffer: value)),
                    let stream = try? names.inbound(app: record.app)
                else { continue }
                for envelope in Self.closeEnvelopes(
                    connection: connection, record: record, edge: edge, reason: reason, now: now)
                {
                    appends.append((stream, envelope))
                }
            }
            // Pipelined: every append of the page in flight at once, fields deleted after all
            // of them succeeded.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for append in appends {
                    group.addTask {
                        try await redis.xadd(append.stream, trim: StreamNames.inboundTrim, envelope: append.envelope)
                    }
                }
                try await group.waitForAll()
            }
            written += appends.count
            if !reaped.isEmpty {
                try await redis.hdel(registry, fields: reaped.map(\.name))
            }
            cursor = page.cursor
        } while cursor != 0

        if names.usesHashTags {
            // In a cluster `<prefix>:edges` is in another slot than the edge's keys, so no
            // script can check and remove at once. An edge that comes back between the check
            // and the SREM adds itself again at its next heartbeat.
            if try await redis.exists([registry, alive]) == 0 {
                try await redis.srem(names.edges, members: [edge])
            }
        } else {
            _ = try await redis.send([
                "EVAL", RedisArgument(Self.unregisterScript), 3, RedisArgument(registry), RedisArgument(alive),
                RedisArgument(names.edges), RedisArgument(edge),
            ])
        }
        return written
    }

    private static func fnv1a(_ bytes: String.UTF8View, basis: UInt64) -> UInt64 {
        var hash = basis
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
