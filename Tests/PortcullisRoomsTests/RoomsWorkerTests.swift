import Foundation
import NIOCore
import PortcullisBus
import PortcullisRooms
import PortcullisTestSupport
import Testing

@Suite(.redisServer(), .serialized)
struct RoomsWorkerTests {
    @Test func echoRoundTrip() async throws {
        let redis = try makeClient()
        let harness = try WorkerHarness.start(apps: [EchoApp()], prefix: freshPrefix(), redis: redis)
        let names = harness.names
        let inbound = try names.inbound(app: "echo")
        let outbound = try names.edgeOutbound(edge: "edge-1")
        let message = messageEnvelope(app: "echo", data: #"["hi",{"n":1}]"#, ack: 3)
        try await redis.xadd(inbound, envelope: message)

        let done1 = try await eventually { try await redis.xlen(outbound) >= 2 }
        #expect(done1)
        try await harness.stop()

        // Read it as an edge would: XREAD from the start.
        let read = try #require(try await redis.xread(streams: [(outbound, .start)])?[outbound])
        let outputs = try read.map { try Envelope(entry: $0) }
        #expect(outputs.count == 2)
        let emit = try #require(outputs.first { $0.kind == .emit })
        #expect(emit.target == .connection("edge-1.k3v9q2x8m1"))
        #expect(emit.event == "say")
        #expect(emit.data?.string == #"["hi",{"n":1}]"#)
        #expect(emit.app == "echo")
        #expect(emit.namespace == "/chat")
        #expect(emit.id != message.id)
        let ack = try #require(outputs.first { $0.kind == .ack })
        #expect(ack.ack == 3)
        #expect(ack.target == .connection("edge-1.k3v9q2x8m1"))
        #expect(ack.data?.string == #"["hi",{"n":1}]"#)
        #expect(try await pendingCount(inbound, app: "echo", redis: redis) == 0)
        await redis.close()
    }

    @Test func echoJoinAndBroadcastToRoom() async throws {
        let redis = try makeClient()
        let harness = try WorkerHarness.start(apps: [EchoApp()], prefix: freshPrefix(), redis: redis)
        let names = harness.names
        let inbound = try names.inbound(app: "echo")
        let connection = "edge-2.abc"
        try await redis.xadd(
            inbound,
            envelope: messageEnvelope(app: "echo", connection: connection, event: "join", data: #"{"room":"lobby"}"#))
        try await redis.xadd(
            inbound,
            envelope: messageEnvelope(app: "echo", connection: connection, event: "broadcast", data: #"["hello room"]"#)
        )

        let done2 = try await eventually { try await redis.xlen(names.broadcast) >= 1 }
        #expect(done2)
        try await harness.stop()

        let edgeOutputs = try await envelopes(try names.edgeOutbound(edge: "edge-2"), redis: redis)
        let join = try #require(edgeOutputs.first { $0.kind == .join })
        #expect(join.room == "lobby")
        #expect(join.target == .connection(connection))
        let broadcast = try await envelopes(names.broadcast, redis: redis)
        #expect(broadcast.count == 1)
        #expect(broadcast.first?.kind == .emit)
        #expect(broadcast.first?.target == .room("lobby"))
        #expect(broadcast.first?.except == connection)
        #expect(broadcast.first?.event == "broadcast")
        #expect(broadcast.first?.data?.string == #"["hello room"]"#)
        await redis.close()
    }

    @Test func duplicateEnvelopeIsHandledOnce() async throws {
        let redis = try makeClient()
        let prefix = freshPrefix()
        let harness = try WorkerHarness.start(apps: [EchoApp()], prefix: prefix, redis: redis)
        let names = harness.names
        let inbound = try names.inbound(app: "echo")
        let outbound = try names.edgeOutbound(edge: "edge-1")
        let message = messageEnvelope(app: "echo")
        try await redis.xadd(inbound, envelope: message)
        try await redis.xadd(inbound, envelope: message)
        let firstDone = try await eventually {
            let written = try await redis.xlen(outbound)
            let pending = try await pendingCount(inbound, app: "echo", redis: redis)
            let read = try await redis.xinfoGroups(inbound).first?.entriesRead ?? 0
            return written >= 1 && pending == 0 && read >= 2
        }
        #expect(firstDone)
        try await harness.stop()

        // A second worker (empty in-process set) still sees the Redis `seen` key.
        let second = try WorkerHarness.start(apps: [EchoApp()], prefix: prefix, workerID: "worker-b", redis: redis)
        try await redis.xadd(inbound, envelope: message)
        let secondDone = try await eventually {
            let read = try await redis.xinfoGroups(inbound).first?.entriesRead ?? 0
            let pending = try await pendingCount(inbound, app: "echo", redis: redis)
            return read >= 3 && pending == 0
        }
        #expect(secondDone)
        try await second.stop()

        #expect(try await redis.xlen(outbound) == 1)
        #expect(try await redis.exists(["\(prefix):seen:echo:\(message.id)"]) == 1)
        await redis.close()
    }

    @Test func poisonEntryGoesToDeadLetterAfterMaxDeliveries() async throws {
        let redis = try makeClient()
        let log = CallLog()
        let app = FailingApp(name: "poison", log: log)
        let harness = try WorkerHarness.start(
            apps: [app], prefix: freshPrefix(), claimIdle: .milliseconds(200), maxDeliveries: 3, redis: redis
        )
        let names = harness.names
        let inbound = try names.inbound(app: "poison")
        let dead = try names.deadLetter(app: "poison")
        let message = messageEnvelope(app: "poison")
        let sourceID = try await redis.xadd(inbound, envelope: message)
        // Undecodable (no `v`): dead-lettered at once, the handler never sees it.
        let badID = try await redis.xadd(inbound, fields: ["id": "x", "kind": "message", "conn": "edge-1.a"])

        let deadLettered = try await eventually(timeout: .seconds(8)) { try await redis.xlen(dead) >= 2 }
        #expect(deadLettered)
        try await harness.stop()

        #expect(await log.started == [message.id, message.id, message.id])
        let entries = try await redis.xrange(dead)
        let bad = try #require(entries.first { $0[field: "source"].map { String(buffer: $0) } == badID.description })
        #expect(bad[field: "id"].map { String(buffer: $0) } == "x")
        #expect(bad[field: "error"].map { String(buffer: $0) }?.contains("v") == true)
        let poisoned = try #require(
            entries.first { $0[field: "source"].map { String(buffer: $0) } == sourceID.description })
        // The original fields are all there, so the envelope still decodes.
        let copied = try Envelope(entry: poisoned)
        #expect(copied == message)
        #expect(poisoned[field: "error"].map { String(buffer: $0) }?.contains("3 times") == true)
        #expect(try await pendingCount(inbound, app: "poison", redis: redis) == 0)
        await redis.close()
    }

    @Test func entriesOfADeadConsumerAreClaimed() async throws {
        let redis = try makeClient()
        let prefix = freshPrefix()
        let names = try StreamNames(prefix: prefix)
        let inbound = try names.inbound(app: "echo")
        let group = try StreamNames.consumerGroup(app: "echo")
        try await redis.ensureGroup(inbound, group: group, startingAt: .start)
        let message = messageEnvelope(app: "echo")
        try await redis.xadd(inbound, envelope: message)
        // "dead-one" reads it and dies without XACK.
        let taken = try await redis.xreadgroup(group: group, consumer: "dead-one", streams: [(inbound, .undelivered)])
        #expect(taken?[inbound]?.count == 1)

        let start = ContinuousClock.now
        let harness = try WorkerHarness.start(
            apps: [EchoApp()], prefix: prefix, claimIdle: .milliseconds(200), redis: redis)
        let outbound = try names.edgeOutbound(edge: "edge-1")
        let done3 = try await eventually { try await redis.xlen(outbound) >= 1 }
        #expect(done3)
        let elapsed = ContinuousClock.now - start
        try await harness.stop()

        #expect(elapsed >= .milliseconds(150))
        let outputs = try await envelopes(outbound, redis: redis)
        #expect(outputs.count == 1)
        #expect(outputs.first?.event == "say")
        #expect(try await pendingCount(inbound, app: "echo", redis: redis) == 0)
        await redis.close()
    }

    @Test func gracefulStopFinishesInFlightAndLeavesTheRestPending() async throws {
        let redis = try makeClient()
        let log = CallLog()
        let app = SlowApp(name: "slow", log: log, delay: .milliseconds(300))
        let prefix = freshPrefix()
        let names = try StreamNames(prefix: prefix)
        let inbound = try names.inbound(app: "slow")
        // Written before the worker starts, so that its first read takes all three.
        for index in 0..<3 {
            try await redis.xadd(inbound, envelope: messageEnvelope(id: "slow-\(index)", app: "slow"))
        }
        let harness = try WorkerHarness.start(apps: [app], prefix: prefix, redis: redis)
        let done5 = try await eventually { await !log.started.isEmpty }
        #expect(done5)
        try await harness.stop()

        let started = await log.started
        let finished = await log.finished
        #expect(started == finished)  // the in-flight entry was finished, not abandoned
        #expect(started.count < 3)
        let outputs = try await envelopes(try names.edgeOutbound(edge: "edge-1"), redis: redis)
        #expect(outputs.count == finished.count)
        // The rest stays pending on this consumer, for its next start or XAUTOCLAIM.
        let pending = try await redis.xpending(inbound, group: try StreamNames.consumerGroup(app: "slow"), count: 10)
        #expect(pending.count == 3 - finished.count)
        #expect(pending.allSatisfy { $0.consumer == "worker-a" })

        // Restarted under the same consumer name, it handles its own pending entries first
        // (XREADGROUP … 0), long before claim_idle (30 s) would let XAUTOCLAIM take them.
        let restarted = try WorkerHarness.start(apps: [app], prefix: prefix, redis: redis)
        let drained = try await eventually {
            try await pendingCount(inbound, app: "slow", redis: redis) == 0
        }
        #expect(drained)
        try await restarted.stop()
        let all = try await envelopes(try names.edgeOutbound(edge: "edge-1"), redis: redis)
        #expect(all.count == 3)
        #expect(Set(await log.finished) == ["slow-0", "slow-1", "slow-2"])
        await redis.close()
    }
}
