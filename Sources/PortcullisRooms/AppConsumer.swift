import Foundation
import Logging
import PortcullisBus
import ServiceLifecycle

/// One app's consumer loop: reads `<prefix>:in:<app>` in group `portcullis-rooms:<app>`,
/// handles each envelope once, writes its outputs, then acknowledges it.
///
/// Order of work per entry: decode (undecodable → dead letter) → skip unknown kinds →
/// dedupe → check the delivery count → handle → XADD outputs → mark seen and XACK, with
/// the Redis steps pipelined across the entries of a read batch (see `processBatch`).
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
    private let handlers: RoomsHandlers
    private let store: RoomsStore
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
        self.handlers = app.handlers
        self.store = RoomsStore(storage: RedisRoomsStorage(redis: redis), names: names, app: app.name)
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
        // A blocking read has nothing to finish: closing the reader at once ends the loop,
        // even when the read is waiting for a Redis that is down.
        await withGracefulShutdownHandler {
            await self.consume(reader: reader)
        } onGracefulShutdown: {
            reader.close()
        }
        await reader.close()
        self.logger.info("rooms consumer stopped")
    }

    private func consume(reader: RedisClient) async {
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
    }

    /// Handles entries in order; stops between entries when a graceful shutdown starts,
    /// leaving the rest pending (what was handled is still committed).
    ///
    /// Redis work is pipelined per batch rather than awaited per entry: one round trip
    /// for every dedupe lookup, then the handlers in order, then one round trip for all
    /// outputs, then one for the `seen` keys and the XACK (see `write`).
    private func processBatch(_ entries: [StreamEntry], redelivered: Bool) async throws {
        var candidates: [(entry: StreamEntry, envelope: Envelope, seenKey: String)] = []
        for entry in entries {
            if let envelope = try await self.admit(entry) {
                candidates.append((entry, envelope, self.seenKey(envelope.id)))
            }
        }
        let seen = try await self.pipelined(candidates.map { ["EXISTS", RedisArgument($0.seenKey)] })
        var commit = Commit(names: self.names)
        for (index, candidate) in candidates.enumerated() {
            if self.isStopping { break }
            // A duplicate in the same batch is not in `recent` or Redis yet.
            if (seen[index].integer ?? 0) > 0 || commit.envelopeIDs.contains(candidate.envelope.id) {
                self.logger.debug("duplicate envelope, skipped", metadata: ["envelope.id": "\(candidate.envelope.id)"])
                RoomsMetrics.shared.envelope(app: self.app.name, .duplicate)
                self.recent.insert(candidate.envelope.id)
                commit.ids.append(candidate.entry.id)
                continue
            }
            if let outputs = try await self.handle(candidate.envelope, entry: candidate.entry, redelivered: redelivered)
            {
                commit.add(
                    outputs, seenKey: candidate.seenKey, id: candidate.entry.id, envelopeID: candidate.envelope.id)
            }
        }
        try await self.write(commit)
    }

    /// Outputs, `seen` keys and acknowledgements of the entries of one batch handled so far.
    private struct Commit {
        /// Picks each output's stream and trim (``StreamNames/outboundAppend(_:)``), as the
        /// edge's publish API does.
        let names: StreamNames
        var outputs: [[RedisArgument]] = []
        var seenMarks: [[RedisArgument]] = []
        var ids: [StreamID] = []
        var envelopeIDs: [String] = []

        mutating func add(
            _ outputs: [(stream: StreamName, envelope: Envelope)], seenKey: String, id: StreamID, envelopeID: String
        ) {
            for output in outputs {
                self.outputs.append(names.outboundAppend(output.envelope))
            }
            seenMarks.append([
                "SET", RedisArgument(seenKey), "1", "EX", RedisArgument(Int(AppConsumer.seenTTL.components.seconds)),
                "NX",
            ])
            ids.append(id)
            envelopeIDs.append(envelopeID)
        }
    }

    /// Writes the batch's outputs, then its `seen` keys and acknowledgements. A failure
    /// leaves the entries not yet acknowledged pending: a retry may write outputs twice
    /// (fresh ids), never zero times.
    ///
    /// That needs a `seen` key to take effect only after its entry's outputs did, so the
    /// outputs are awaited before the keys are sent; sending them back to back is not
    /// enough. An error reply fails one command, not the ones behind it, and a cluster
    /// client spreads commands over nodes (outputs to the edges' streams, `seen` keys to
    /// the app's slot) and resends a redirected one later. A `seen` key kept for an entry
    /// whose output failed makes its redelivery look like a duplicate, and the output is
    /// lost; a failover under traffic can do that. The keys and the XACK go together: an
    /// entry acknowledged without its key costs at most a duplicate.
    private func write(_ commit: Commit) async throws {
        // An error reply fails its command, so a refused XADD stops the rest.
        _ = try await self.pipelined(commit.outputs)
        let marks = commit.seenMarks.map { self.redis.send($0) }
        if !commit.ids.isEmpty {
            try await self.redis.xack(self.inbound, group: self.group, ids: commit.ids)
        }
        for mark in marks { _ = try await mark.get() }
        for id in commit.envelopeIDs { self.recent.insert(id) }
    }

    /// Sends `commands` back to back on the shared connection and waits for every reply.
    private func pipelined(_ commands: [[RedisArgument]]) async throws -> [RESPValue] {
        let futures = commands.map { self.redis.send($0) }
        var replies: [RESPValue] = []
        replies.reserveCapacity(futures.count)
        for future in futures {
            replies.append(try await future.get())
        }
        return replies
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

    private func seenKey(_ envelopeID: String) -> String {
        self.names.seen(app: self.app.name, envelopeID: envelopeID)
    }

    /// Decodes an entry; the rare cases that end here (deleted, undecodable, unknown kind,
    /// a duplicate this process handled recently) are settled at once and give nil.
    private func admit(_ entry: StreamEntry) async throws -> Envelope? {
        let envelope: Envelope
        do {
            envelope = try Envelope(entry: entry)
        } catch {
            if error.code == .deletedEntry {
                RoomsMetrics.shared.envelope(app: self.app.name, .skipped)
                try await self.acknowledge(entry.id)
            } else {
                RoomsMetrics.shared.envelope(app: self.app.name, .deadLettered)
                self.logger.info(
                    "undecodable entry, dead-lettered", metadata: ["stream.id": "\(entry.id)", "error": "\(error)"])
                try await self.sendToDeadLetter(entry, error: "\(error)")
            }
            return nil
        }
        guard envelope.kind.isKnown else {
            self.logger.debug("unknown kind, skipped", metadata: ["envelope.kind": "\(envelope.kind)"])
            RoomsMetrics.shared.envelope(app: self.app.name, .skipped)
            try await self.acknowledge(entry.id)
            return nil
        }
        if self.recent.contains(envelope.id) {
            self.logger.debug("duplicate envelope, skipped", metadata: ["envelope.id": "\(envelope.id)"])
            RoomsMetrics.shared.envelope(app: self.app.name, .duplicate)
            try await self.acknowledge(entry.id)
            return nil
        }
        return envelope
    }

    /// Runs the app's handler; its outputs, or nil when the entry is settled otherwise
    /// (dead-lettered, or left pending for a retry after the handler threw).
    private func handle(
        _ envelope: Envelope, entry: StreamEntry, redelivered: Bool
    ) async throws -> [(stream: StreamName, envelope: Envelope)]? {
        // The entry's ids join the metadata only when a line is written: setting them on a
        // copy of the logger per envelope cost the log handler a formatting pass each time.
        func log(_ message: Logger.Message, _ metadata: Logger.Metadata) {
            var metadata = metadata
            metadata["stream.id"] = "\(entry.id)"
            metadata["envelope.id"] = "\(envelope.id)"
            self.logger.info(message, metadata: metadata)
        }
        if redelivered, let count = try await self.deliveryCount(entry.id), count > self.settings.maxDeliveries {
            log("delivery limit reached, dead-lettered", ["rooms.deliveries": "\(count)"])
            RoomsMetrics.shared.envelope(app: self.app.name, .deadLettered)
            try await self.sendToDeadLetter(entry, error: "gave up after \(count - 1) deliveries")
            return nil
        }
        let context = RoomsContext(envelope: envelope, store: self.store, names: self.names) {
            Int64(Date().timeIntervalSince1970 * 1000)
        }
        let started = ContinuousClock.now
        defer { RoomsMetrics.shared.handlerDuration(app: self.app.name, .now - started) }
        do {
            try await self.handlers.handle(envelope, context: context)
        } catch let error as RoomsInputError {
            log("client input refused", ["error": "\(error)"])
            RoomsMetrics.shared.envelope(app: self.app.name, .inputRefused)
            return []
        } catch {
            let count = try await self.deliveryCount(entry.id) ?? 1
            if count >= self.settings.maxDeliveries {
                RoomsMetrics.shared.envelope(app: self.app.name, .deadLettered)
                log("handler failed, dead-lettered", ["error": "\(error)", "rooms.deliveries": "\(count)"])
                try await self.sendToDeadLetter(entry, error: "handler failed \(count) times: \(error)")
            } else {
                RoomsMetrics.shared.envelope(app: self.app.name, .failed)
                log("handler failed, left pending for retry", ["error": "\(error)", "rooms.deliveries": "\(count)"])
            }
            return nil
        }
        let outputs = context.outputs
        RoomsMetrics.shared.envelope(app: self.app.name, .handled)
        RoomsMetrics.shared.outputs(app: self.app.name, count: outputs.count)
        return outputs
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
