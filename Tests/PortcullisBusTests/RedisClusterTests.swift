import Foundation
import NIOCore
import PortcullisConfig
import PortcullisTestSupport
import Testing

@testable import PortcullisBus

/// The cluster client against a real local cluster of three masters started here: routing
/// by slot, a slot moved under writes (-ASK while it moves, -MOVED after) and under a
/// blocked reader.
@Suite(.serialized) struct RedisClusterTests {
    /// A client whose first seed is dead: the map comes from the next one. The cluster's
    /// password, if any, comes as `redis.password_file` would bring it.
    static func client(_ cluster: RedisClusterProcess) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: "redis://127.0.0.1:1/0")
        configuration.password = cluster.password
        configuration.cluster = .init(
            seeds: [HostPort(host: "127.0.0.1", port: 1)] + cluster.ports.map { HostPort(host: "127.0.0.1", port: $0) })
        configuration.reconnectBackoff = RedisBackoff(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(200))
        configuration.connectTimeout = .seconds(1)
        return RedisClient(configuration: configuration, logger: testLogger)
    }

    static func askingCalls(on node: Int, of cluster: RedisClusterProcess) async throws -> Int {
        let stats = try await cluster.send(["INFO", "commandstats"], to: node).expectString()
        guard let line = stats.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("cmdstat_asking:") }),
            let calls = line.split(separator: ",").first?.split(separator: "=").last
        else { return 0 }
        return Int(calls) ?? 0
    }

    /// Writes `{a}key` … `{h}key` through `client` and reads each back from the node that
    /// serves its slot; they spread over all three masters.
    static func expectKeysOnTheirMasters(_ client: RedisClient, _ cluster: RedisClusterProcess) async throws {
        var owners: Set<Int> = []
        for tag in ["a", "b", "c", "d", "e", "f", "g", "h"] {
            let key = "{\(tag)}key"
            try await client.set(key, to: RedisArgument(tag))
            let owner = try #require(try await cluster.owner(ofSlot: RedisKeySlot.slot(of: key)))
            owners.insert(owner)
            #expect(try await cluster.send(["GET", RedisArgument(key)], to: owner).string == tag)
        }
        #expect(owners.count == 3, "the keys spread over every master")
    }

    @Test(arguments: [nil, "cluster-pw"])
    func eachKeyIsStoredOnTheMasterOfItsSlot(password: String?) async throws {
        let cluster = try await RedisClusterProcess.start(password: password)
        defer { cluster.stop() }
        let client = try Self.client(cluster)
        defer { client.close() }

        try await Self.expectKeysOnTheirMasters(client, cluster)
        // Several keys of one slot in one command.
        #expect(try await client.del(["{a}key", "{a}other"]) == 1)
        #expect(try await client.isConnected.get())
    }

    @Test func aTLSClusterIsReachedOverTLSOnEveryMaster() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-tls-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try RedisTLSFiles.generate(in: directory)
        let cluster = try await RedisClusterProcess.start(tls: files)
        defer { cluster.stop() }
        // Seeds on the TLS ports only: a map naming the plain ports could not be used.
        var configuration = try RedisConfiguration(url: "rediss://127.0.0.1:1/0")
        configuration.tls = files.clientConfiguration()
        configuration.cluster = .init(seeds: cluster.tlsPorts.map { HostPort(host: "127.0.0.1", port: $0) })
        configuration.connectTimeout = .seconds(2)
        let client = RedisClient(configuration: configuration, logger: testLogger)
        defer { client.close() }

        try await Self.expectKeysOnTheirMasters(client, cluster)
    }

    @Test func writesFollowTheirSlotToAnotherMasterWithoutLosingOne() async throws {
        let cluster = try await RedisClusterProcess.start()
        defer { cluster.stop() }
        let client = try Self.client(cluster)
        defer { client.close() }
        let key = "{moving}counter"
        let slot = RedisKeySlot.slot(of: key)
        let source = try #require(try await cluster.owner(ofSlot: slot))
        let target = (source + 1) % 3
        for index in 0..<30 {  // so that the move takes several steps
            try await client.set("{moving}filler:\(index)", to: "x")
        }
        let askingBefore = try await Self.askingCalls(on: target, of: cluster)

        var increments = 0
        func increment() async throws {
            _ = try await client.send(["INCR", RedisArgument(key)]).get()
            increments += 1
            // A new key while the slot moves: the source sends it to the target with -ASK.
            try await client.set("{moving}new:\(increments)", to: "y")
        }
        try await increment()
        let moved = try await cluster.moveSlot(slot, from: source, to: target, keysPerStep: 3) {
            for _ in 0..<3 { try await increment() }
        }
        #expect(moved > 30)
        for _ in 0..<10 { try await increment() }  // -MOVED, then the new map

        #expect(try await cluster.owner(ofSlot: slot) == target)
        #expect(try await cluster.send(["GET", RedisArgument(key)], to: target).string == "\(increments)")
        #expect(try await client.get(key).map { String(buffer: $0) } == "\(increments)")
        #expect(try await Self.askingCalls(on: target, of: cluster) > askingBefore)
    }

    @Test func aBlockedReaderFollowsItsStreamToAnotherMaster() async throws {
        let cluster = try await RedisClusterProcess.start()
        defer { cluster.stop() }
        let client = try Self.client(cluster)
        defer { client.close() }
        let reader = client.makeDedicatedClient()
        defer { reader.close() }
        let stream: StreamName = "{readers}stream"
        let slot = RedisKeySlot.slot(of: stream)
        let source = try #require(try await cluster.owner(ofSlot: slot))
        let target = (source + 2) % 3
        let first = try await client.xadd(stream, fields: ["n": "1"])

        let read = Task {
            try await reader.xread(streams: [(stream, .after(first))], block: .seconds(30))
        }
        // Wait until the read is blocked on the source.
        let deadline = ContinuousClock.now + .seconds(20)
        while try await cluster.send(["INFO", "clients"], to: source).expectString().contains("blocked_clients:0") {
            try #require(ContinuousClock.now < deadline, "the read never blocked")
            try await Task.sleep(for: .milliseconds(20))
        }
        try await cluster.moveSlot(slot, from: source, to: target)
        let second = try await client.xadd(stream, fields: ["n": "2"])

        let batch = try await read.value
        #expect(batch?[stream]?.map(\.id) == [second])
    }

    @Test func writesGoOnOnceAFailedMastersReplicaTakesOver() async throws {
        let cluster = try await RedisClusterProcess.start()
        defer { cluster.stop() }
        let key = "{failover}counter"
        let master = try #require(try await cluster.owner(ofSlot: RedisKeySlot.slot(of: key)))
        let replica = try await cluster.addReplica(of: master)
        defer { replica.stop() }
        let client = try Self.client(cluster)
        defer { client.close() }
        _ = try await client.send(["INCR", RedisArgument(key)]).get()
        let copy = try await RedisConnection.connect(to: replica.configuration, logger: testLogger)
        defer { copy.close() }
        let synced = ContinuousClock.now + .seconds(10)
        while try await copy.send(["READONLY"]).string == "OK",
            try await copy.send(["GET", RedisArgument(key)]).string != "1"
        {
            try #require(ContinuousClock.now < synced, "the replica did not get the write")
            try await Task.sleep(for: .milliseconds(20))
        }

        cluster.nodes[master].kill()
        // Each write waits (in the dead master's buffer, or retried on -CLUSTERDOWN) until the
        // map names the promoted replica: after the node timeout (2 s) and an election.
        let killed = ContinuousClock.now
        for _ in 0..<5 {
            _ = try await client.send(["INCR", RedisArgument(key)]).get()
        }
        #expect(ContinuousClock.now - killed < .seconds(20))
        #expect(try await copy.send(["GET", RedisArgument(key)]).string == "6")
    }

    @Test func aDeadEdgesConnectionsAreReapedIntoTheirAppsSlots() async throws {
        let cluster = try await RedisClusterProcess.start()
        defer { cluster.stop() }
        let client = try Self.client(cluster)
        defer { client.close() }
        let names = try StreamNames(prefix: "reap", hashTags: true)
        try await client.sadd(names.edges, members: ["edge-1"])
        try await client.hset(
            try names.edgeConnections(edge: "edge-1"),
            fields: [
                ("edge-1.a", RedisArgument(PresenceRecord(app: "echo", user: "42").json)),
                ("edge-1.b", RedisArgument(PresenceRecord(app: "socketio-reference", namespaces: ["/"]).json)),
            ])

        let written = try await EdgePresence.reapIfDead(edge: "edge-1", names: names, redis: client, now: 1)
        #expect(written == 2)
        for app in ["echo", "socketio-reference"] {
            let entries = try await client.xrange(try names.inbound(app: app))
            #expect(try entries.map { try Envelope(entry: $0).kind } == [.close])
        }
        #expect(try await client.exists([try names.edgeConnections(edge: "edge-1")]) == 0)
        #expect(try await client.smembers(names.edges).isEmpty)
    }
}
