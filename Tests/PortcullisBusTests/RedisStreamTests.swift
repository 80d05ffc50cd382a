import NIOCore
import NIOPosix
import PortcullisTestSupport
import Testing

@testable import PortcullisBus

/// Typed stream commands against a real redis-server.
@Suite(.redisServer()) struct RedisStreamTests {
    static func makeClient() throws -> RedisClient {
        try RedisClient(url: try sharedServerURL(), logger: testLogger)
    }

    static func text(_ entry: StreamEntry, _ field: String) -> String? {
        entry[field: field].map { String(buffer: $0) }
    }

    @Test func xaddReturnsIncreasingIDsAndTrims() async throws {
        let client = try Self.makeClient()
        defer { client.close() }
        let stream = uniqueKey()
        let explicit = try await client.xadd(stream, id: StreamID(milliseconds: 5, sequence: 9), fields: ["n": "0"])
        #expect(explicit == StreamID(milliseconds: 5, sequence: 9))
        var last = explicit
        for index in 1...150 {
            let id = try await client.xadd(stream, trim: .maximumLength(10), fields: ["n": RedisArgument(index)])
            #expect(id > last)
            last = id
        }
        let length = try await client.xlen(stream)
        #expect(length >= 10 && length < 150, "approximate MAXLEN trims whole nodes")
        let exact = try await client.xadd(stream, trim: .maximumLength(10, approximate: false), fields: ["n": "x"])
        #expect(try await client.xlen(stream) == 10)

        let trimmed = try await client.xadd(stream, trim: .minimumID(last, approximate: false), fields: ["n": "y"])
        #expect(try await client.xrange(stream).map(\.id) == [last, exact, trimmed])

        let error = await #expect(throws: RedisError.self) {
            try await client.xadd(stream, id: StreamID(milliseconds: 1), fields: ["n": "old"])
        }
        #expect(error?.serverCode == "ERR")
    }

    @Test func xreadReturnsEntriesOfSeveralStreamsAndNilOnTimeout() async throws {
        let client = try Self.makeClient()
        defer { client.close() }
        let (first, second) = (uniqueKey(), uniqueKey())
        let binary = ByteBuffer(bytes: [0x00, 0x0D, 0x0A, 0xFF, 0x00])
        let a = try await client.xadd(first, fields: ["kind": "open", "data": RedisArgument(binary)])
        let b = try await client.xadd(second, fields: ["kind": "close"])

        let read = try #require(
            try await client.xread(streams: [(first, .start), (second, .start)], count: 10)
        )
        #expect(read.keys.sorted() == [first, second].sorted())
        let entry = try #require(read[first]?.first)
        #expect(entry.id == a)
        #expect(entry.fields?.map(\.name) == ["kind", "data"])
        #expect(entry[field: "data"] == binary)
        #expect(read[second]?.map(\.id) == [b])

        #expect(try await client.xread(streams: [(first, .after(a))]) == nil)
        let started = ContinuousClock.now
        #expect(try await client.xread(streams: [(first, .after(a))], block: .milliseconds(50)) == nil)
        #expect(ContinuousClock.now - started >= .milliseconds(40))
    }

    @Test func blockingReadOnADedicatedClientWakesOnXADD() async throws {
        let client = try Self.makeClient()
        let reader = client.makeDedicatedClient()
        defer {
            client.close()
            reader.close()
        }
        let stream = uniqueKey()
        _ = try await client.xadd(stream, fields: ["n": "0"])
        let waiting = Task {
            try await reader.xread(streams: [(stream, .newEntries)], block: .seconds(5))
        }
        // The writer's pipeline is not held up by the blocked reader.
        var added: StreamID?
        for _ in 0..<100 {
            try await Task.sleep(for: .milliseconds(10))
            let clients = try await client.send(["CLIENT", "LIST"]).string ?? ""
            if clients.contains("cmd=xread") {
                added = try await client.xadd(stream, fields: ["n": "1"])
                break
            }
        }
        let result = try #require(try await waiting.value)
        #expect(result[stream]?.map(\.id) == [try #require(added)])
    }

    @Test func consumerGroupReadAckPendingAndInfo() async throws {
        let client = try Self.makeClient()
        defer { client.close() }
        let stream = uniqueKey()
        let group = "edge"
        #expect(try await client.ensureGroup(stream, group: group, startingAt: .start))
        #expect(try await client.ensureGroup(stream, group: group) == false, "BUSYGROUP counts as success")
        let ids = try await (0..<3).asyncMap { index in
            try await client.xadd(stream, fields: ["n": RedisArgument(index)])
        }

        let delivered = try #require(
            try await client.xreadgroup(group: group, consumer: "c1", streams: [(stream, .undelivered)], count: 10)
        )
        #expect(delivered[stream]?.map(\.id) == ids)
        #expect(delivered[stream]?.map { Self.text($0, "n") } == ["0", "1", "2"])

        let summary = try await client.xpending(stream, group: group)
        #expect(summary.count == 3)
        #expect(summary.smallestID == ids[0])
        #expect(summary.greatestID == ids[2])
        #expect(summary.consumers.map(\.name) == ["c1"])
        #expect(summary.consumers.map(\.pending) == [3])

        let pending = try await client.xpending(stream, group: group, count: 10, consumer: "c1")
        #expect(pending.map(\.id) == ids)
        #expect(pending.allSatisfy { $0.consumer == "c1" && $0.deliveryCount == 1 })

        #expect(try await client.xack(stream, group: group, ids: [ids[0], ids[0]]) == 1)

        // The data of a pending entry is deleted: re-reading own pending entries shows it
        // with nil fields.
        _ = try await client.send(["XDEL", RedisArgument(stream), RedisArgument(ids[1].description)])
        let reread = try #require(
            try await client.xreadgroup(group: group, consumer: "c1", streams: [(stream, .start)])
        )
        let entries = try #require(reread[stream])
        #expect(entries.map(\.id) == [ids[1], ids[2]])
        #expect(entries[0].fields == nil)
        #expect(Self.text(entries[1], "n") == "2")

        #expect(
            try await client.xreadgroup(
                group: group,
                consumer: "c1",
                streams: [(stream, .undelivered)],
                block: .milliseconds(20)
            ) == nil
        )

        let info = try await client.xinfoStream(stream)
        #expect(info.length == 2)
        #expect(info.lastGeneratedID == ids[2])
        #expect(info.groups == 1)
        #expect(info.firstEntry?.id == ids[0])
        #expect(info.lastEntry?.id == ids[2])

        let groups = try await client.xinfoGroups(stream)
        #expect(groups.count == 1)
        #expect(groups.first?.name == group)
        #expect(groups.first?.consumers == 1)
        #expect(groups.first?.pending == 2)
        #expect(groups.first?.lastDeliveredID == ids[2])
    }

    @Test func readingAMissingGroupIsNOGROUP() async throws {
        let client = try Self.makeClient()
        defer { client.close() }
        let error = await #expect(throws: RedisError.self) {
            try await client.xreadgroup(group: "nope", consumer: "c", streams: [(uniqueKey(), .undelivered)])
        }
        #expect(error?.serverCode == "NOGROUP")
    }

    @Test func xautoclaimMovesADeadConsumersEntries() async throws {
        let client = try Self.makeClient()
        defer { client.close() }
        let stream = uniqueKey()
        let group = "rooms"
        try await client.xgroupCreate(stream, group: group, startingAt: .newEntries)
        let ids = try await (0..<4).asyncMap { index in
            try await client.xadd(stream, fields: ["n": RedisArgument(index)])
        }
        // Consumer A reads and dies without acknowledging.
        let taken = try await client.xreadgroup(group: group, consumer: "A", streams: [(stream, .undelivered)])
        #expect(taken?[stream]?.count == 4)

        let fresh = try await client.xautoclaim(stream, group: group, consumer: "B", minimumIdle: .seconds(60))
        #expect(fresh.entries.isEmpty, "nothing is idle for a minute yet")
        #expect(fresh.isScanComplete)

        // One of A's entries is deleted (trimmed) before anyone claims it.
        _ = try await client.send(["XDEL", RedisArgument(stream), RedisArgument(ids[3].description)])

        try await Task.sleep(for: .milliseconds(60))
        let claimed = try await client.xautoclaim(
            stream,
            group: group,
            consumer: "B",
            minimumIdle: .milliseconds(50),
            count: 10
        )
        #expect(claimed.isScanComplete)
        #expect(claimed.entries.map(\.id) == Array(ids[0..<3]))
        #expect(claimed.entries.map { Self.text($0, "n") } == ["0", "1", "2"])
        #expect(claimed.deletedIDs == [ids[3]])

        let pending = try await client.xpending(stream, group: group, count: 10)
        #expect(pending.map(\.consumer) == ["B", "B", "B"])
        #expect(pending.map(\.deliveryCount) == [2, 2, 2])
        #expect(try await client.xack(stream, group: group, ids: claimed.entries.map(\.id)) == 3)
        #expect(try await client.xpending(stream, group: group).count == 0)
        #expect(try await client.xpending(stream, group: group).smallestID == nil)
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self {
            result.append(try await transform(element))
        }
        return result
    }
}
