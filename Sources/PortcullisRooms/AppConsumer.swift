import Foundation
import Logging
import PortcullisBus
import ServiceLifecycle

/// One app's consumer loop: reads `<prefix>:in:<app>` in group `portcullis-rooms:<app>`,
/// handles each envelope once, writes its outputs, then acknowledges it.
///
/// Order of work per entry: decode (undecodable → dead letter) → skip unknown kinds →
/// dedupe → check the delivery count → handle → XADD outputs → mark seen → XACK.
///
/// Dedupe is two layers: a bounded in-process set of recently handled ids (cheap, catches
/// the common case of a duplicate XADD read by the same worker), then the Redis key
/// `<prefix>:seen:<app>:<id>` (`SET … 1 NX EX 3600`) shared by all workers. The key is
/// written only *after* the outputs, so a worker that dies mid-entry does not make the
/// redelivery look like a duplicate; the price is that two workers racing on a duplicate
/// may both handle it (at-least-once, as the contract says).
///
/// Retries: a handler that throws leaves the entry pending, unacknowledged; XAUTOCLAIM
/// (which also reclaims entries of dead consumers) redelivers it after `claim_idle`, and
/// the delivery count from XPENDING decides when it goes to `<prefix>:dead:<app>`.
///
/// Not Sendable: owned by the one task that runs it.
final class AppConsumer {
    private let app: any RoomsApp
    private let settings: RoomsSettings
    private let names: StreamNames
    private let redis: RedisClient
    private let logger: Logger
    private let inbound: StreamName
    private let deadLetter: StreamName
    private let group: String
    private var recent = RecentIDs(capacity: 10_000)

    /// How long a `seen` key keeps an envelope id.
    static let seenTTL: Duration = .seconds(3600)
    static let batchSize = 64

    init(app: any RoomsApp, settings: RoomsSettings, names: StreamNames, redis: RedisClient, logger: Logger) {
        self.app = app
        self.settings = settings
        self.names = names
        self.redis = redis
        var logger = logger
        logger[metadataKey: "rooms.app"] = "\(app.name)"
        self.logger = logger
        // Checked by RoomsWorker.init.
        self.inbound = (try? names.inbound(app: app.name)) ?? "\(names.prefix):in:\(app.name)"
        self.deadLetter = (try? names.deadLetter(app: app.name)) ?? "\(names.prefix):dead:\(app.name)"
        self.group = (try? StreamNames.consumerGroup(app: app.name)) ?? "\(StreamNames.consumerGroupPrefix):\(app.name)"
    }

    private var isStopping: Bool {
        Task.isCancelled || Task.isShuttingDownGracefully
    }

    func run() async {
        let reader = self.redis.makeDedicatedClient(logger: self.logger)
        self.logger.info("rooms consumer starting", metadata: ["rooms.consumer": "\(self.settings.workerID)"])
        // nil: reading new entries (`>`); otherwise re-reading our own pending entries after
        // this id (startup recipe: from `0` until empty).
        var pendingPosition: StreamPosition? = .start
        var groupReady = false
        var lastClaim: ContinuousClock.Instant?
        let claimInterval = max(self.settings.claimIdle / 2, .milliseconds(50))

        while !self.isStopping {
            do {
                if !groupReady {
                    try await self.redis.ensureGroup(self.inbound, group: self.group, startingAt: .start)
                    groupReady = true
                }
                if lastClaim.map({ ContinuousClock.now - $0 >= claimInterval }) ?? true {
                    lastClaim = .now
                    try await self.claimIdleEntries()
                    continue
                }
                if let position = pendingPosition {
                    let entries =
                        try await reader.xreadgroup(
                            group: self.group,
                            consumer: self.settings.workerID,
                            streams: [(self.inbound, position)],
                            count: Self.batchSize
                        )?[self.inbound] ?? []
                    guard let last = entries.last else {
                        pendingPosition = nil
                        continue
                    }
                    pendingPosition = .after(last.id)
                    try await self.processBatch(entries, redelivered: true)
                } else {
                    let entries =
                        try await reader.xreadgroup(
                            group: self.group,
                            consumer: self.settings.workerID,
                            streams: [(self.inbound, .undelivered)],
                            count: Self.batchSize,
                            block: self.settings.readBlock
                        )?[self.inbound] ?? []
                    try await self.processBatch(entries, redelivered: false)
                }
            } catch {
                if self.isStopping { break }
                if let error = error as? RedisError, error.serverCode == "NOGROUP" {
                    // Someone deleted the stream or the group: create it again.
                    groupReady = false
                    pendingPosition = .start
                }
                self.logger.warning("rooms consumer error, retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        await reader.close()
        self.logger.info("rooms consumer stopped")
    }

    /// Handles entries in order; stops between entries when a graceful shutdown starts,
    /// leaving the rest pending.
    private func processBatch(_ entries: [StreamEntry], redelivered: Bool) async throws {
        for entry in entries {
            if self.isStopping { return }
            try await self.process(entry, redelivered: redelivered)
        }
    }

    /// XAUTOCLAIM entries idle longer than `claim_idle` (a dead consumer's, or our own
    /// failed ones) and handles them as redeliveries.
    private func claimIdleEntries() async throws {
        var start = StreamID.zero
        // Bounded scan: at most a few pages per round, the next round continues.
        for _ in 0..<8 {
            let result = try await self.redis.xautoclaim(
                self.inbound,
                group: self.group,
                consumer: self.settings.workerID,
                minimumIdle: self.settings.claimIdle,
                start: start,
                count: Self.batchSize
            )
            if !result.entries.isEmpty {
                self.logger.debug("claimed idle entries", metadata: ["rooms.claimed": "\(result.entries.count)"])
            }
            try await self.processBatch(result.entries, redelivered: true)
            if result.isScanComplete || self.isStopping { return }
            start = result.nextStart
        }
    }

    func process(_ entry: StreamEntry, redelivered: Bool) async throws {
        var logger = self.logger
        logger[metadataKey: "stream.id"] = "\(entry.id)"
        let envelope: Envelope
        do {
            envelope = try Envelope(entry: entry)
        } catch {
            if error.code == .deletedEntry {
                try await self.acknowledge(entry.id)
            } else {
                logger.info("undecodable entry, dead-lettered", metadata: ["error": "\(error)"])
                try await self.sendToDeadLetter(entry, error: "\(error)")
            }
            return
        }
        logger[metadataKey: "envelope.id"] = "\(envelope.id)"
        guard envelope.kind.isKnown else {
            logger.debug("unknown kind, skipped", metadata: ["envelope.kind": "\(envelope.kind)"])
            try await self.acknowledge(entry.id)
            return
        }
        let seenKey = "\(self.names.prefix):seen:\(self.app.name):\(envelope.id)"
        if self.recent.contains(envelope.id) {
            logger.debug("duplicate envelope, skipped")
            try await self.acknowledge(entry.id)
            return
        }
        if try await self.redis.exists([seenKey]) > 0 {
            logger.debug("duplicate envelope, skipped")
            self.recent.insert(envelope.id)
            try await self.acknowledge(entry.id)
            return
        }
        if redelivered, let count = try await self.deliveryCount(entry.id), count > self.settings.maxDeliveries {
            logger.info("delivery limit reached, dead-lettered", metadata: ["rooms.deliveries": "\(count)"])
            try await self.sendToDeadLetter(entry, error: "gave up after \(count - 1) deliveries")
            return
        }

        let context = RoomsContext(envelope: envelope, redis: self.redis, names: self.names) {
            Int64(Date().timeIntervalSince1970 * 1000)
        }
        do {
            try await self.app.handle(envelope, context: context)
        } catch {
            let count = try await self.deliveryCount(entry.id) ?? 1
            if count >= self.settings.maxDeliveries {
                logger.info(
                    "handler failed, dead-lettered",
                    metadata: ["error": "\(error)", "rooms.deliveries": "\(count)"]
                )
                try await self.sendToDeadLetter(entry, error: "handler failed \(count) times: \(error)")
            } else {
                logger.info(
                    "handler failed, left pending for retry",
                    metadata: ["error": "\(error)", "rooms.deliveries": "\(count)"]
                )
            }
            return
        }
        // A failure from here on leaves the entry pending: the retry may write some outputs
        // twice (fresh ids), never zero times.
        for (stream, output) in context.outputs {
            let trim = stream == self.names.broadcast ? StreamNames.broadcastTrim : StreamNames.edgeOutboundTrim
            try await self.redis.xadd(stream, trim: trim, envelope: output)
        }
        try await self.redis.set(seenKey, to: "1", expiresIn: Self.seenTTL, condition: .ifNotExists)
        try await self.acknowledge(entry.id)
        self.recent.insert(envelope.id)
    }

    private func acknowledge(_ id: StreamID) async throws {
        try await self.redis.xack(self.inbound, group: self.group, ids: [id])
    }

    /// The entry's delivery count from XPENDING; nil when it is no longer pending.
    private func deliveryCount(_ id: StreamID) async throws -> Int? {
        try await self.redis.xpending(self.inbound, group: self.group, from: id, through: id, count: 1)
            .first?.deliveryCount
    }

    /// Copies the entry's fields plus `error` and `source` (docs/bus.md) to
    /// `<prefix>:dead:<app>`, then acknowledges it.
    private func sendToDeadLetter(_ entry: StreamEntry, error: String) async throws {
        var fields: [(String, RedisArgument)] = (entry.fields ?? []).map { ($0.name, RedisArgument($0.value)) }
        fields.append(("error", RedisArgument(error)))
        fields.append(("source", RedisArgument(entry.id.description)))
        try await self.redis.xadd(self.deadLetter, trim: StreamNames.deadLetterTrim, fields: fields)
        try await self.acknowledge(entry.id)
    }
}
