import Foundation
import PortcullisBus
import PortcullisTestSupport
import Testing

@testable import PortcullisRooms

/// The same sequence of store operations gives the same answers in memory and on a real
/// Redis: an app tested on ``InMemoryBus`` behaves the same in production.
@Suite(.redisServer(), .serialized)
struct RoomsStorageTests {
    struct Message: Codable, Sendable, Hashable {
        var id: Int
        var text: String
    }

    /// Runs every typed handle once and records each answer as text.
    static func script(_ store: RoomsStore) async throws -> [String] {
        var answers: [String] = []
        let value = store.value(Message.self, "value")
        answers.append("\(try await value.get() as Message?)")
        answers.append("\(try await value.set(Message(id: 1, text: "a"), onlyIfAbsent: true))")
        answers.append("\(try await value.set(Message(id: 2, text: "b"), onlyIfAbsent: true))")
        answers.append("\(try await value.get() as Message?)")
        try await value.delete()
        answers.append("\(try await value.get() as Message?)")

        let counter = store.counter("count")
        answers.append("\(try await counter.get())")
        answers.append("\(try await counter.increment())")
        answers.append("\(try await counter.increment(by: 5))")

        let set = store.set("online", "u1")
        answers.append("\(try await set.add("c1"))")
        answers.append("\(try await set.add("c2"))")
        answers.append("\(try await set.add("c1"))")
        answers.append("\(try await set.contains("c2"))")
        answers.append("\(try await set.members())")
        answers.append("\(try await set.remove("c1"))")
        answers.append("\(try await set.remove("c1"))")
        answers.append("\(try await set.remove("c2"))")
        answers.append("\(try await set.members())")

        let hash = store.hash(JSON.self, "socket", "c1")
        try await hash.set("role", "BUYER")
        try await hash.set("n", 3)
        answers.append("\(try await hash.get("role") as JSON?)")
        answers.append("\(try await hash.all().sorted { $0.key < $1.key })")
        try await hash.remove("role")
        answers.append("\(try await hash.all())")
        try await hash.remove("n")
        answers.append("\(try await hash.get("n") as JSON?)")

        let list = store.list(Message.self, "room", "r1", "messages")
        for id in 1...5 {
            try await list.append(Message(id: id, text: "m\(id)"), keepLast: 3)
        }
        answers.append("\(try await list.last(2).map(\.id))")
        answers.append("\(try await list.last(10).map(\.id))")
        answers.append("\(try await store.list(Message.self, "none").last(3))")
        return answers
    }

    @Test func memoryAndRedisAnswerAlike() async throws {
        let server = try currentServer()
        let redis = try RedisClient(url: server.url, logger: testLogger)
        let onRedis = RoomsStore(storage: RedisRoomsStorage(redis: redis), prefix: "parity", app: "app")
        let inMemory = RoomsStore(storage: MemoryRoomsStorage(), prefix: "parity", app: "app")
        let redisAnswers = try await Self.script(onRedis)
        let memoryAnswers = try await Self.script(inMemory)
        #expect(memoryAnswers == redisAnswers)
        #expect(redisAnswers[1] == "true" && redisAnswers[2] == "false")
        #expect(redisAnswers.suffix(3) == ["[4, 5]", "[3, 4, 5]", "[]"])
        // Keys live under the app's prefix; emptied sets and hashes are gone.
        let keys = try await redis.send(["KEYS", "parity:*"]).expectArray().compactMap(\.string).sorted()
        #expect(keys == ["parity:app:app:count", "parity:app:app:room:r1:messages"])
        await redis.close()
    }

    @Test func memoryExpiryFollowsItsClock() async throws {
        let clock = TestClock()
        let storage = MemoryRoomsStorage(now: { clock.now })
        try await storage.set("k", "v", onlyIfAbsent: false, expiresIn: .seconds(10))
        _ = try await storage.setAdd("s", "m")
        try await storage.expire("s", in: .seconds(5))
        clock.advance(by: .seconds(6))
        #expect(try await storage.get("k") == "v")
        #expect(try await storage.setMembers("s") == [])
        clock.advance(by: .seconds(5))
        #expect(try await storage.get("k") == nil)
        #expect(storage.keys == [])
    }
}

/// A clock a test moves by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var instant = ContinuousClock.now

    var now: ContinuousClock.Instant {
        self.lock.withLock { self.instant }
    }

    func advance(by duration: Duration) {
        self.lock.withLock { self.instant = self.instant.advanced(by: duration) }
    }
}
